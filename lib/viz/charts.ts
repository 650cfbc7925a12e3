// Loss curves from a model's history.jsonl: one raw line per identity (faint, it is noisy: every
// step sees a different random batch) and its smoothed trend (bold), on a log scale because the
// loss falls by orders of magnitude. Works on a finished run and live, during training.

import { readHistory, type HistoryEntry } from '../train/history';
import { LiveFigure, showFigure, writeFigureHtml, type PlotlyFigure, type PlotlyTrace } from './plotly';
import type { QualityEntry } from '../benchmark/quality';

/** Colours per identity, in the order identities first appear: A blue, B orange, then more. */
const COLOURS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#db2777'];

/**
 * Exponential moving average with bias correction (as TensorBoard draws it): the first point is
 * the first value rather than being pulled towards 0. weight 0: no smoothing; towards 1: smoother.
 */
export function smoothEma(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`smoothing weight must be in [0, 1), got ${weight}`);
  const out: number[] = [];
  let avg = 0;
  let n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) {
      out.push(NaN); // a diverged step shows as a gap, and does not poison the rest
      continue;
    }
    n += 1;
    avg = weight * avg + (1 - weight) * v;
    out.push(avg / (1 - weight ** n));
  }
  return out;
}

export interface LossChartOptions {
  /** EMA weight for the trend line, in [0, 1). Default 0.9. */
  smoothing?: number;
  /** Logarithmic loss axis. Default true. */
  logY?: boolean;
  title?: string;
  /** Display names per identity, e.g. { a: 'Alice', b: 'Bob' }. */
  names?: Record<string, string>;
}

/**
 * Ticks for a log axis at 1, 2 and 5 times powers of ten inside [min, max], written out in full.
 * Plotly's own log ticks label the minor ones with a bare digit ("0.1, 9, 8 ... 2"), which reads
 * as nonsense to a newcomer. Fewer than two such ticks: null (leave it to Plotly).
 */
export function logTicks(min: number, max: number): { tickvals: number[]; ticktext: string[] } | null {
  if (!(min > 0 && max >= min && Number.isFinite(max))) return null;
  const vals: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++)
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(6));
      if (v >= min && v <= max) vals.push(v);
    }
  return vals.length >= 2 ? { tickvals: vals, ticktext: vals.map((v) => String(v)) } : null;
}

/** The identities in a history, in order of first appearance. */
export function historyIdentities(history: readonly HistoryEntry[]): string[] {
  const ids: string[] = [];
  for (const e of history) for (const id of Object.keys(e.loss)) if (!ids.includes(id)) ids.push(id);
  return ids;
}

export function lossFigure(history: readonly HistoryEntry[], options: LossChartOptions = {}): PlotlyFigure {
  const { smoothing = 0.9, logY = true, title = 'Training loss', names = {} } = options;
  const traces: PlotlyTrace[] = [];
  historyIdentities(history).forEach((id, i) => {
    const rows = history.filter((e) => id in e.loss);
    const x = rows.map((e) => e.step);
    const y = rows.map((e) => e.loss[id]);
    const color = COLOURS[i % COLOURS.length];
    const name = names[id] ?? id.toUpperCase();
    traces.push({ type: 'scatter', mode: 'lines', name: `${name} (each step)`, x, y, line: { color, width: 1 }, opacity: 0.3, legendgroup: id });
    traces.push({ type: 'scatter', mode: 'lines', name: `${name} (smoothed)`, x, y: smoothEma(y, smoothing), line: { color, width: 2.5 }, legendgroup: id });
  });
  const last = history[history.length - 1];
  const all = history.flatMap((e) => Object.values(e.loss)).filter((v) => Number.isFinite(v) && v > 0);
  const ticks = logY && all.length ? logTicks(Math.min(...all), Math.max(...all)) : null;
  return {
    data: traces,
    layout: {
      title: { text: last ? `${title} (step ${last.step})` : `${title} (no steps yet)` },
      xaxis: { title: { text: 'step' } },
      yaxis: { title: { text: 'loss (mean absolute error)' }, type: logY ? 'log' : 'linear', ...ticks },
      legend: { orientation: 'h', y: -0.2 },
    },
  };
}

/** Show the loss curve of a model folder (or of given entries). Returns the number of steps drawn. */
export function showLossCurve(source: string | readonly HistoryEntry[], options: LossChartOptions = {}): number {
  const history = typeof source === 'string' ? readHistory(source) : source;
  showFigure(lossFigure(history, options));
  return history.length;
}

export interface LiveLossOptions extends LossChartOptions {
  /** Redraw at most this often, in seconds (a redraw sends the whole curve). Default 2. */
  minSeconds?: number;
}

/**
 * A loss curve that redraws in place while training runs:
 *   const chart = liveLossChart(modelDir);
 *   await runTraining(session, { steps, onStep: chart.onStep });
 *   chart.finish();
 * It starts from the folder's history, so a continued run shows the whole curve.
 */
export function liveLossChart(modelDir: string | null, options: LiveLossOptions = {}) {
  const { minSeconds = 2, ...chartOptions } = options;
  const history: HistoryEntry[] = modelDir ? readHistory(modelDir) : [];
  const figure = new LiveFigure({ height: 360 });
  let drawnAt = 0;
  const draw = () => {
    drawnAt = Date.now();
    figure.update(lossFigure(history, chartOptions));
  };
  draw();
  return {
    history,
    /** Pass as runTraining's onStep. */
    onStep: (entry: HistoryEntry): void => {
      // A resumed run trains steps again from its checkpoint: drop the entries it replaces.
      while (history.length && history[history.length - 1].step >= entry.step) history.pop();
      history.push(entry);
      if (Date.now() - drawnAt >= minSeconds * 1000) draw();
    },
    /** Draw the final state. */
    finish: draw,
  };
}

/** Quality against minutes: truth PSNR (or verification without truth) per recipe and direction. */
export async function writeQualityChart(file: string, entries: QualityEntry[]): Promise<string> {
  const recipes = [...new Set(entries.map((e) => e.recipe))];
  const hasTruth = entries.some((e) => e.truth);
  const value = (e: QualityEntry, d: 'a2b' | 'b2a') => (hasTruth ? e.truth?.[d].psnr : e.verification[d]) ?? NaN;
  const traces: PlotlyTrace[] = recipes.flatMap((r) =>
    (['a2b', 'b2a'] as const).map((d) => {
      const es = entries.filter((e) => e.recipe === r);
      return { type: 'scatter', mode: 'lines+markers', name: `${r} ${d === 'a2b' ? 'A→B' : 'B→A'}`, x: es.map((e) => e.minutes), y: es.map((e) => value(e, d)), line: { dash: d === 'a2b' ? 'solid' : 'dot' } };
    }),
  );
  return writeFigureHtml(file, {
    data: traces,
    layout: { title: { text: hasTruth ? 'Swap PSNR against the ground truth (dB)' : 'Identity verification of the swaps' }, xaxis: { title: { text: 'minutes of training' } }, yaxis: { title: { text: hasTruth ? 'dB' : 'share verified' } } },
  }, { title: 'deepfake-lab bench --quality' });
}
