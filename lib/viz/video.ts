// Videos and their steadiness in a notebook: clips side by side in one HTML5 video (so before and
// after play in step), embedded as data so the exported page plays offline, and a chart of the
// landmark jitter per frame with and without smoothing.

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { TemporalReport } from '../video/temporal-scores';
import { ffmpegReason } from '../util/ffmpeg';
import { escapeHtml, showHtml } from './display';
import { showFigure, type PlotlyFigure } from './plotly';

export interface SideBySideOptions {
  /** Height of each clip in the joined video, pixels (even). */
  height?: number;
  /** x264 quality of the preview: higher is smaller. */
  crf?: number;
}

/**
 * The clips joined left to right into one small MP4 (bytes), at the first clip's frame rate and
 * as long as the shortest, with the first clip's sound.
 */
export async function sideBySide(files: readonly string[], { height = 400, crf = 26 }: SideBySideOptions = {}): Promise<Buffer> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-video-')), 'side-by-side.mp4');
  const scaled = files.map((_, i) => `[${i}:v]scale=-2:${height},setsar=1[v${i}]`).join(';');
  const joined = files.length > 1 ? `;${files.map((_, i) => `[v${i}]`).join('')}hstack=inputs=${files.length}:shortest=1[out]` : ';[v0]null[out]';
  const args = ['-v', 'error', '-nostdin', '-y', ...files.flatMap((f) => ['-i', f]), '-filter_complex', scaled + joined, '-map', '[out]', '-map', '0:a:0?',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(crf), '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k', '-shortest', '-movflags', '+faststart', out];
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg could not join the clips: ${ffmpegReason(stderr)}`))));
    });
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

/** An HTML5 video holding the MP4 bytes themselves, with captions under its parts. */
export function videoHtml(mp4: Uint8Array, captions: readonly string[] = [], { width = 960 } = {}): string {
  const src = `data:video/mp4;base64,${Buffer.from(mp4).toString('base64')}`;
  const caps = captions.length
    ? `<div style="display:flex;max-width:${width}px">${captions.map((c) => `<div style="flex:1;text-align:center;font:13px sans-serif">${escapeHtml(c)}</div>`).join('')}</div>`
    : '';
  return `<div class="deepfake-lab-video"><video controls loop muted playsinline preload="auto" style="max-width:${width}px;width:100%"><source src="${src}" type="video/mp4"></video>${caps}</div>`;
}

/** Show clips side by side, playing together, in the notebook (nothing outside the kernel). */
export async function showVideos(clips: ReadonlyArray<{ file: string; caption: string }>, options: SideBySideOptions = {}): Promise<void> {
  const mp4 = await sideBySide(clips.map((c) => c.file), options);
  showHtml(videoHtml(mp4, clips.map((c) => c.caption)));
}

/** Landmark jitter per frame, per-frame alignment against smoothed, over time. */
export function jitterFigure(t: TemporalReport, fps: number): PlotlyFigure {
  const x = t.jitter.perFrame.raw.map((_, i) => i / fps);
  const trace = (name: string, y: Array<number | null>, colour: string) => ({ type: 'scatter', mode: 'lines', name, x, y: y.map((v) => v ?? NaN), line: { color: colour, width: 2 } });
  const pct = Number.isFinite(t.jitter.reduction) ? ` (${(100 * t.jitter.reduction).toFixed(0)}% less)` : '';
  return {
    data: [
      trace(`per-frame landmarks: mean ${t.jitter.raw.toFixed(4)}`, t.jitter.perFrame.raw, '#ea580c'),
      trace(`smoothed: mean ${t.jitter.smoothed.toFixed(4)}`, t.jitter.perFrame.smoothed, '#2563eb'),
    ],
    layout: {
      title: { text: `Landmark jitter${pct}${t.jitter.againstTruth ? ', beyond the true motion' : ''}` },
      xaxis: { title: { text: 'time (s)' } },
      yaxis: { title: { text: 'acceleration (eye distances / frame²)' }, rangemode: 'tozero' },
      legend: { orientation: 'h', y: -0.25 },
    },
  };
}

export function showJitter(t: TemporalReport, fps: number): void {
  showFigure(jitterFigure(t, fps), { height: 380 });
}
