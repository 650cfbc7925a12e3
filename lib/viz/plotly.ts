// Plotly charts for notebooks and files, fully offline: plotly.js comes from node_modules, never a CDN.
//
// How the library gets onto a page, once:
// - A notebook page (JupyterLab, VS Code's notebook webview, the HTML page nbconvert exports) is one
//   browser document shared by every cell output. plotly.js (4.8 MB minified) is sent once per
//   kernel session as its own display output (`ensurePlotly`), which the first chart of the session
//   does by itself, so a chart cell works when it is the first chart shown. A global flag (keyed by
//   a Symbol, so two copies of this module agree) remembers that it was sent.
// - The library runs inside a wrapper that hands it a private `module` object: it stores itself as
//   `window.__deepfakeLabPlotly` and puts back any `window.Plotly` the page already had (another
//   version, from plotly.py say). It then fires the `deepfake-lab-plotly` event.
// - Every chart is a <div> plus a small script that draws as soon as that global exists, or waits for
//   the event. Outputs may render in any order (VS Code renders lazily, an update can come first),
//   so a chart never assumes the library arrived before it.
// - The embed is its own output, never part of a chart's: a live chart replaces its output in place
//   (tslab newDisplay) and would otherwise take the library with it.
// - If the output holding the library is gone (its cell was cleared or re-run in the same kernel
//   session), a waiting chart says so after a few seconds instead of staying blank;
//   `ensurePlotly({ force: true })` sends it again.
// - Standalone files (`writeFigureHtml`) carry the library in their <head>.

import * as fs from 'fs';
import { writeFileAtomic } from '../util/fsutil';
import { liveDisplay, showHtml, type LiveDisplay } from './display';

/** One trace: Plotly's schema is huge, so only what this project sets is named. */
export interface PlotlyTrace {
  type?: string;
  mode?: string;
  name?: string;
  x?: ArrayLike<number | string>;
  y?: ArrayLike<number>;
  [key: string]: unknown;
}

export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export interface ChartOptions {
  /** Height of the chart in pixels (its width follows the page). Default 400. */
  height?: number;
  /** The element id; default: a fresh unique one. */
  id?: string;
  /**
   * JavaScript run after the first draw, with `gd` (the chart's div) and `Plotly` in scope:
   * hover handlers and the like. Library code only; never user input.
   */
  afterDraw?: string;
  /** HTML placed after the chart's div, inside the same output (e.g. a hover thumbnail). */
  aside?: string;
}

/** The attribute that marks the one script holding plotly.js; tests count it. */
export const EMBED_MARKER = 'data-deepfake-lab-plotly';
const READY_EVENT = 'deepfake-lab-plotly';
const GLOBAL = '__deepfakeLabPlotly';

let librarySource: string | null = null;

/** plotly.js from node_modules: the minified build when installed, else the full one. */
export function plotlySource(): string {
  if (librarySource !== null) return librarySource;
  for (const file of ['plotly.js-dist-min/plotly.min.js', 'plotly.js-dist/plotly.js']) {
    try {
      librarySource = fs.readFileSync(require.resolve(file), 'utf8');
      return librarySource;
    } catch {
      // try the next build
    }
  }
  throw new Error('plotly.js is not installed: run npm install (plotly.js-dist-min or plotly.js-dist)');
}

export function plotlyVersion(): string {
  return /plotly\.js v([\d.]+)/.exec(plotlySource().slice(0, 200))?.[1] ?? 'unknown';
}

/** The <script> that defines the library once on a page (a second copy on the same page does nothing). */
export function plotlyEmbedHtml(): string {
  // "</script" inside the source would end the tag early; plotly.js has none today, but be safe.
  const src = plotlySource().replace(/<\/script/gi, '<\\/script');
  return [
    `<script ${EMBED_MARKER}="${plotlyVersion()}">`,
    `(function () {`,
    `  if (window.${GLOBAL}) return;`,
    `  var before = window.Plotly, module = { exports: {} };`,
    `  (function (module, exports) {`,
    src,
    `  })(module, module.exports);`,
    `  window.${GLOBAL} = module.exports;`,
    `  if (before) window.Plotly = before; else delete window.Plotly;`,
    `  window.dispatchEvent(new Event('${READY_EVENT}'));`,
    `})();`,
    `</script>`,
  ].join('\n');
}

/** JSON that is safe inside an inline <script>: no "</script>", no "<!--", no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

let counter = 0;
function freshId(): string {
  counter += 1;
  return `dfl-chart-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${counter}`;
}

/** A chart's HTML without the library: a div and a script that draws when plotly.js is there. */
export function chartHtml(fig: PlotlyFigure, options: ChartOptions = {}): string {
  const id = options.id ?? freshId();
  const height = options.height ?? 400;
  const layout = { height, autosize: true, margin: { l: 60, r: 20, t: 40, b: 50 }, ...fig.layout };
  const config = { responsive: true, displaylogo: false, ...fig.config };
  const missing = 'This chart is waiting for plotly.js, which the first chart of a notebook loads. If it stays ' +
    'like this, that output was cleared: run the notebook from the top, or run ensurePlotly({ force: true }).';
  return [
    `<div class="deepfake-lab-chart-box" style="display:flex;gap:12px;align-items:flex-start">`,
    `<div id="${id}" class="deepfake-lab-chart" style="flex:1;min-width:300px;height:${height}px"></div>`,
    options.aside ?? '',
    `</div>`,
    `<script>`,
    `(function () {`,
    `  var fig = ${scriptJson({ data: fig.data, layout, config })};`,
    `  function draw(Plotly) {`,
    `    var gd = document.getElementById(${scriptJson(id)});`,
    `    if (!gd) return;`,
    `    gd.textContent = '';`,
    `    Plotly.newPlot(gd, fig.data, fig.layout, fig.config).then(function () {`,
    options.afterDraw ?? '',
    `    });`,
    `  }`,
    `  if (window.${GLOBAL}) return draw(window.${GLOBAL});`,
    `  window.addEventListener('${READY_EVENT}', function () { draw(window.${GLOBAL}); }, { once: true });`,
    `  setTimeout(function () {`,
    `    var gd = document.getElementById(${scriptJson(id)});`,
    `    if (!window.${GLOBAL} && gd) gd.textContent = ${scriptJson(missing)};`,
    `  }, 8000);`,
    `})();`,
    `</script>`,
  ].join('\n');
}

const SENT = Symbol.for('deepfake-lab.plotly-sent');
type Flagged = typeof globalThis & { [SENT]?: boolean };

/**
 * Send plotly.js to the notebook page once per kernel session (a no-op outside the kernel).
 * Charts call this themselves; `force` sends it again, e.g. after clearing the cell that held it.
 * Returns true when the library is (now) on the page.
 */
export function ensurePlotly({ force = false } = {}): boolean {
  const g = globalThis as Flagged;
  if (g[SENT] && !force) return true;
  const sent = showHtml(plotlyEmbedHtml());
  if (sent) g[SENT] = true;
  return sent;
}

/** Show a figure in the notebook. Returns false outside the kernel (nothing is shown). */
export function showFigure(fig: PlotlyFigure, options: ChartOptions = {}): boolean {
  ensurePlotly();
  return showHtml(chartHtml(fig, options));
}

/** A chart that redraws in place: call update() as often as you like (e.g. every training step). */
export class LiveFigure {
  private readonly display: LiveDisplay = liveDisplay();
  constructor(private readonly options: ChartOptions = {}) {}

  update(fig: PlotlyFigure): boolean {
    ensurePlotly();
    // A fresh div id per draw: the old div is gone once the output is replaced.
    return this.display.html(chartHtml(fig, { ...this.options, id: undefined }));
  }
}

/** A whole HTML page for one figure, with plotly.js inside: opens offline in any browser. */
export function figurePageHtml(fig: PlotlyFigure, { title = 'Chart', ...options }: ChartOptions & { title?: string } = {}): string {
  const esc = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc}</title>`,
    plotlyEmbedHtml(),
    '</head><body style="font-family:sans-serif;margin:16px">',
    `<h1 style="font-size:18px">${esc}</h1>`,
    chartHtml(fig, options),
    '</body></html>',
  ].join('\n');
}

/** Write figurePageHtml to a file (atomically); returns the path. */
export async function writeFigureHtml(file: string, fig: PlotlyFigure, options: ChartOptions & { title?: string } = {}): Promise<string> {
  await writeFileAtomic(file, figurePageHtml(fig, options));
  return file;
}
