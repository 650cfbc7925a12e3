// Pictures of a run comparison (lib/lab/runs.ts): the loss curves of every run in one chart, the
// table of scores with the settings that differ highlighted, and a page holding both for `eval`.

import * as fs from 'fs';
import * as path from 'path';
import type { ComparedRun, RunComparison, SettingValue } from '../lab/runs';
import { cumulativeMinutes } from '../lab/runs';
import { writeFileAtomic } from '../util/fsutil';
import { historyIdentities, logTicks, smoothEma } from './charts';
import { escapeHtml, showHtml, showPng } from './display';
import { chartHtml, plotlyEmbedHtml, showFigure, type PlotlyFigure, type PlotlyTrace } from './plotly';

/** One colour per run (identities differ by dash). */
const RUN_COLOURS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#854d0e', '#4b5563'];
const DASHES = ['solid', 'dot', 'dash', 'dashdot'];

/**
 * Every run's smoothed loss per identity, one colour per run. Two buttons switch the x axis
 * between steps and training minutes (cumulative step time: gaps between resumed runs left out).
 */
export function runsLossFigure(
  runs: ReadonlyArray<Pick<ComparedRun, 'name' | 'history'>>,
  { smoothing = 0.9, x = 'step' as 'step' | 'minutes', lossesDiffer = false } = {},
): PlotlyFigure {
  const traces: PlotlyTrace[] = [];
  const xs: { step: number[][]; minutes: number[][] } = { step: [], minutes: [] };
  runs.forEach((run, r) => {
    const minutes = cumulativeMinutes(run.history);
    historyIdentities(run.history).forEach((id, i) => {
      const rows = run.history.map((e, at) => ({ e, at })).filter(({ e }) => id in e.loss);
      xs.step.push(rows.map(({ e }) => e.step));
      xs.minutes.push(rows.map(({ at }) => Math.round(minutes[at]! * 1000) / 1000));
      traces.push({
        type: 'scatter', mode: 'lines', name: `${run.name} ${id.toUpperCase()}`, legendgroup: run.name,
        x: xs[x].at(-1)!, y: smoothEma(rows.map(({ e }) => e.loss[id]!), smoothing),
        line: { color: RUN_COLOURS[r % RUN_COLOURS.length], width: 2, dash: DASHES[i % DASHES.length] },
      });
    });
  });
  const all = traces.flatMap((t) => Array.from(t.y ?? [])).filter((v) => Number.isFinite(v) && v > 0);
  const ticks = all.length ? logTicks(Math.min(...all), Math.max(...all)) : null;
  const axis = (k: 'step' | 'minutes') => (k === 'step' ? 'step' : 'minutes of training (pauses between runs left out)');
  return {
    data: traces,
    layout: {
      // A loss with SSIM or mask weights is another measure: its values do not rank the runs.
      title: { text: 'Training loss of each run (smoothed)', ...(lossesDiffer ? { subtitle: { text: 'the runs use different losses: compare the shapes, not the heights' } } : {}) },
      xaxis: { title: { text: axis(x) } },
      yaxis: { title: { text: 'loss' }, type: 'log', ...ticks },
      legend: { orientation: 'h', y: -0.25 },
      updatemenus: [{
        type: 'buttons', direction: 'right', x: 1, xanchor: 'right', y: 1.15, yanchor: 'top', showactive: true, active: x === 'step' ? 0 : 1,
        buttons: (['step', 'minutes'] as const).map((k) => ({ label: k === 'step' ? 'by step' : 'by minutes', method: 'update', args: [{ x: xs[k] }, { 'xaxis.title.text': axis(k) }] })),
      }],
    },
  };
}

/** A table row: a score (shown with `digits` decimals) or a setting (shown as stored). */
/** Whether the runs' loss functions differ (then their loss values are not comparable). */
function lossesDiffer(c: RunComparison): boolean {
  return c.differing.some((k) => k.startsWith('train.loss.'));
}

type Row = { label: string; values: SettingValue[]; digits?: number; differs?: boolean; best?: 'max' };

function fmt(v: SettingValue, digits: number | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'number' || digits === undefined) return String(v);
  return digits === 0 ? v.toLocaleString('en') : v.toFixed(digits);
}

function metricRows(runs: readonly ComparedRun[]): Row[] {
  const rows: Row[] = [
    { label: 'step', values: runs.map((r) => r.step), digits: 0 },
    { label: 'training minutes', values: runs.map((r) => r.minutes), digits: 2 },
  ];
  const add = (label: string, get: (r: ComparedRun) => number | null | undefined, best?: 'max') => {
    const values = runs.map((r) => get(r) ?? null);
    const digits = /SSIM|ratio|verification/.test(label) ? 3 : 2;
    if (values.some((v) => v !== null)) rows.push({ label, values, digits, best });
  };
  add('reconstruction A, PSNR dB', (r) => r.eval.reconstruction.a.psnr, 'max');
  add('reconstruction B, PSNR dB', (r) => r.eval.reconstruction.b.psnr, 'max');
  add('reconstruction A, SSIM', (r) => r.eval.reconstruction.a.ssim, 'max');
  add('reconstruction B, SSIM', (r) => r.eval.reconstruction.b.ssim, 'max');
  add('swap A→B vs truth, PSNR dB', (r) => r.eval.swap.truth?.a2b.psnr, 'max');
  add('swap B→A vs truth, PSNR dB', (r) => r.eval.swap.truth?.b2a.psnr, 'max');
  add('identity verification A→B', (r) => r.eval.swap.verification.a2b, 'max');
  add('identity verification B→A', (r) => r.eval.swap.verification.b2a, 'max');
  add('sharpness ratio A→B', (r) => r.eval.swap.sharpness.a2b);
  add('sharpness ratio B→A', (r) => r.eval.swap.sharpness.b2a);
  return rows;
}

function rowHtml(row: Row): string {
  const top = row.best === 'max' ? Math.max(...row.values.filter((v): v is number => typeof v === 'number')) : null;
  const cells = row.values.map((v) => {
    const strong = top !== null && v === top && row.values.length > 1;
    return `<td style="padding:2px 10px;text-align:right${strong ? ';font-weight:bold' : ''}">${escapeHtml(fmt(v, row.digits))}</td>`;
  });
  const attrs = row.differs ? ' data-differs="true" style="background:#fef3c7"' : '';
  return `<tr${attrs}><th style="text-align:left;padding:2px 10px;font-weight:normal">${escapeHtml(row.label)}</th>${cells.join('')}</tr>`;
}

/**
 * The scores of every run (the best of each bold), then the settings that differ between runs,
 * highlighted; the settings they share fold away underneath.
 */
export function runsTableHtml(c: RunComparison): string {
  const head = `<tr><th></th>${c.runs.map((r) => `<th style="padding:2px 10px;text-align:right">${escapeHtml(r.name)}</th>`).join('')}</tr>`;
  const setting = (k: string, differs: boolean): Row => ({ label: k, values: c.runs.map((r) => r.settings[k] ?? null), differs });
  const names = Object.keys(c.runs[0]?.settings ?? {});
  const same = names.filter((k) => !c.differing.includes(k));
  const section = (title: string) => `<tr><th colspan="${c.runs.length + 1}" style="text-align:left;padding:8px 10px 2px">${escapeHtml(title)}</th></tr>`;
  const differing = c.differing.length
    ? [section(`settings that differ (${c.differing.length})`), ...c.differing.map((k) => rowHtml(setting(k, true)))]
    : [section('no setting differs between these runs')];
  return [
    '<table class="deepfake-lab-runs" style="border-collapse:collapse">',
    `<thead>${head}</thead>`,
    `<tbody>${section('scores on the same faces')}${metricRows(c.runs).map(rowHtml).join('')}${differing.join('')}</tbody>`,
    '</table>',
    same.length ? `<details><summary>${same.length} setting${same.length === 1 ? '' : 's'} shared by every run</summary><table>${same.map((k) => rowHtml(setting(k, false))).join('')}</table></details>` : '',
  ].join('\n');
}

/** In a notebook: the loss curves, the faces grid and the table. */
export async function showRunComparison(c: RunComparison, log: (line: string) => void = console.log): Promise<void> {
  showFigure(runsLossFigure(c.runs, { lossesDiffer: lossesDiffer(c) }));
  if (c.grid) {
    log(`the same faces through every model: real A, then each run's A→B; real B, then each run's B→A`);
    showPng(await fs.promises.readFile(c.grid));
  }
  showHtml(runsTableHtml(c));
}

/** A page for `eval --model D1 --model D2`: chart, grid (beside it, by file name) and table; opens offline. */
export async function writeRunComparisonPage(file: string, c: RunComparison): Promise<string> {
  const grid = c.grid ? `<h2 style="font-size:15px">The same faces through every model</h2><img alt="faces grid" src="${escapeHtml(path.relative(path.dirname(file), c.grid))}">` : '';
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Runs compared</title>',
    plotlyEmbedHtml(),
    '</head><body style="font-family:sans-serif;margin:16px">',
    `<h1 style="font-size:18px">${escapeHtml(c.runs.map((r) => r.name).join(' vs '))}</h1>`,
    chartHtml(runsLossFigure(c.runs, { lossesDiffer: lossesDiffer(c) })),
    grid,
    '<h2 style="font-size:15px">Scores and settings</h2>',
    runsTableHtml(c),
    '</body></html>',
  ].join('\n');
  await writeFileAtomic(file, html);
  return file;
}
