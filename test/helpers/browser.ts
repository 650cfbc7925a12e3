// Opening local pages in headless Chromium (Debian's chromium through playwright-core), offline:
// every Plotly chart must draw its SVG, every image must decode, the page must raise no error and
// ask the network for nothing. Screenshots go to output/screenshots/ for a human look.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from './shared';

// The functions passed to page.evaluate run in Chromium. The project compiles without the DOM
// library (adding it would leak browser globals into every Node file), so name what they touch.
interface DomElement { querySelector(selector: string): DomElement | null; getAttribute(name: string): string | null }
interface DomImage extends DomElement { complete: boolean; naturalWidth: number }
declare const document: {
  querySelectorAll(selector: string): Iterable<DomElement>;
  images: Iterable<DomImage>;
  getElementById(id: string): DomElement | null;
};

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// From ../shared/docs/environment.md; playwright adds --headless itself.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SHOTS = path.join(PROJECT_ROOT, 'output', 'screenshots');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-browser-'));

let context: BrowserContext | null = null;
async function browser(): Promise<BrowserContext> {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium) or set CHROMIUM_PATH`);
  // A fresh profile every run: nothing cached from an earlier page can make a broken one pass.
  context ??= await chromium.launchPersistentContext(fs.mkdtempSync(path.join(tmp, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1200, height: 900 },
  });
  return context;
}
after(async () => {
  await context?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

export interface PageReport {
  charts: number;
  drawn: number;
  images: number;
  broken: string[];
  errors: string[];
  /** Requests that left the machine (blocked: the pages must work offline). */
  external: string[];
}

/** Open a local page offline, wait for its charts, and say what drew and what did not. */
export async function checkPage(file: string, shot: string, extra?: (page: Page) => Promise<void>): Promise<PageReport> {
  const page = await (await browser()).newPage();
  const errors: string[] = [];
  const external: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
    // Charts draw asynchronously after load; give them a while, then report what is missing.
    await page
      .waitForFunction(() => [...document.querySelectorAll('.deepfake-lab-chart, .js-plotly-plot')].every((d) => d.querySelector('.main-svg')), null, { timeout: 60_000 })
      .catch(() => undefined);
    await page.waitForFunction(() => [...document.images].every((i) => i.complete), null, { timeout: 15_000 }).catch(() => undefined);
    const state = await page.evaluate(() => {
      const charts = [...new Set([...document.querySelectorAll('.deepfake-lab-chart, .js-plotly-plot')])];
      const images = [...document.images];
      return {
        charts: charts.length,
        drawn: charts.filter((d) => d.querySelector('.main-svg')).length,
        images: images.length,
        broken: images.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => (i.getAttribute('src') ?? '').slice(0, 80)),
      };
    });
    if (extra) await extra(page);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, shot), fullPage: true });
    return { ...state, errors, external };
  } finally {
    await page.close();
  }
}

export function assertClean(name: string, r: PageReport): void {
  assert.deepEqual(r.errors, [], `${name}: page errors`);
  assert.equal(r.drawn, r.charts, `${name}: ${r.charts - r.drawn} of ${r.charts} charts drew no SVG`);
  assert.deepEqual(r.broken, [], `${name}: images that did not decode`);
}


/** What Chromium made of each <video> on a page after asking it to play for a moment. */
export interface VideoState {
  width: number;
  height: number;
  duration: number;
  /** Playback position after about 0.6 s of playing: above 0 means it really played. */
  played: number;
  error: number | null;
}

interface DomVideo { readyState: number; videoWidth: number; videoHeight: number; duration: number; currentTime: number; ended: boolean; error: { code: number } | null; muted: boolean; play(): Promise<void>; addEventListener(e: string, f: () => void, o?: object): void }

/** Open a local page offline and play every video on it (muted, as autoplay rules ask). */
export async function playVideos(file: string): Promise<VideoState[]> {
  const page = await (await browser()).newPage();
  try {
    await page.route('**/*', (route) => (/^(file|data):/.test(route.request().url()) ? route.continue() : route.abort()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
    return await page.evaluate(async () => {
      const out: VideoState[] = [];
      for (const v of [...document.querySelectorAll('video')] as unknown as DomVideo[]) {
        await new Promise<void>((resolve) => {
          if (v.readyState >= 2) return resolve();
          v.addEventListener('loadeddata', () => resolve(), { once: true });
          v.addEventListener('error', () => resolve(), { once: true });
        });
        v.muted = true;
        await v.play().catch(() => undefined);
        // Until it has played a quarter second (or ended, or failed), at most 5 s: on a loaded
        // machine a fixed 600 ms wait once saw only 0.08 s of playback.
        for (let waited = 0; waited < 5000 && v.currentTime < 0.25 && !v.ended && !v.error; waited += 100)
          await new Promise<void>((resolve) => setTimeout(resolve, 100));
        out.push({ width: v.videoWidth, height: v.videoHeight, duration: v.duration, played: v.currentTime, error: v.error?.code ?? null });
      }
      return out;
    });
  } finally {
    await page.close();
  }
}
