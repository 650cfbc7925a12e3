// The training loop around a session: train to a total step count, log progress, write previews
// and checkpoints every N steps, stop cleanly (with a checkpoint) when asked.

import { Progress } from '../util/progress';
import { median } from '../util/stats';
import type { Divergence } from './divergence';
import type { HistoryEntry } from './history';
import type { TrainingSession } from './session';

export interface RunOptions {
  /** Train until the session reaches this step (a resumed run continues towards it). */
  steps: number;
  /** Checkpoint every N steps (and always at the end). Default 100. */
  checkpointEvery?: number;
  /** Preview grid every N steps (and at the end). Default 100; 0: only at the end. */
  previewEvery?: number;
  /** Called after every step, e.g. by a notebook to draw the loss curve. */
  onStep?: (entry: HistoryEntry, session: TrainingSession) => void;
  /** A progress line goes here at most every logSeconds. Default process.stderr; null: silent. */
  stream?: NodeJS.WritableStream | null;
  logSeconds?: number;
  /** Stop after the current step, save a checkpoint and return (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
}

export interface RunResult {
  /** The session's step count at the end. */
  steps: number;
  /** Steps trained by this call. */
  trained: number;
  /** Last loss per identity (null when nothing was trained, ever). */
  loss: Record<string, number | null>;
  /** Median faces per second over this call's steps after the first (warm-up); 0 when none. */
  facesPerSecond: number;
  /** Median data-preparation milliseconds per step (all identities' batches). */
  prepMsPerStep: number;
  /** Median milliseconds per step, preparation included. */
  stepMs: number;
  checkpoint: string;
  preview: string | null;
  stopped: boolean;
  /** Why training stopped early because the loss blew up (session.diverged), else null. */
  diverged: Divergence | null;
}

/** What to tell a person whose run diverged. */
export function divergenceAdvice(d: Divergence, lr: number | undefined): string {
  return `training diverged: ${d.reason}. The learning rate${lr === undefined ? '' : ` (${lr.toExponential(1)} at that step)`} is too high for this model, and ` +
    'later steps do not recover from this; stopped. Train a new model with a lower --lr (or the recipe\'s own rate).';
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

export async function runTraining(session: TrainingSession, options: RunOptions): Promise<RunResult> {
  const { steps, checkpointEvery = 100, previewEvery = 100, logSeconds = 2 } = options;
  const stream = options.stream === undefined ? process.stderr : options.stream;
  const todo = Math.max(0, steps - session.step);
  const progress = new Progress('train', todo, { stream: null });
  const entries: HistoryEntry[] = [];
  let checkpoint: string | null = null;
  let preview: string | null = null;
  let lastLog = 0;
  let stopped = false;

  while (session.step < steps) {
    if (options.signal?.aborted) {
      stopped = true;
      break;
    }
    const entry = await session.trainStep();
    entries.push(entry);
    progress.tick();
    options.onStep?.(entry, session);
    if (session.diverged) {
      stream?.write(`train: ${divergenceAdvice(session.diverged, entry.lr)}\n`);
      stopped = true;
      break;
    }
    const last = session.step === steps;
    if (stream && (last || performance.now() - lastLog > logSeconds * 1000)) {
      lastLog = performance.now();
      const losses = Object.entries(entry.loss).map(([id, l]) => `${id} ${l.toFixed(4)}`).join(' ');
      const eta = progress.state().etaSeconds;
      stream.write(`step ${entry.step}/${steps}  loss ${losses}  ${entry.facesPerSecond.toFixed(1)} faces/s  ETA ${formatSeconds(eta)}\n`);
    }
    if (previewEvery > 0 && session.step % previewEvery === 0 && !last) preview = await session.writePreview();
    if (checkpointEvery > 0 && session.step % checkpointEvery === 0 && !last) checkpoint = await session.saveCheckpoint();
    // Let signal handlers run: a wasm step never yields to the event loop by itself.
    await new Promise((r) => setImmediate(r));
  }
  checkpoint = await session.saveCheckpoint();
  preview = await session.writePreview();
  progress.stop();

  const timed = entries.length > 1 ? entries.slice(1) : entries;
  const lastEntry = session.history[session.history.length - 1];
  return {
    steps: session.step,
    trained: entries.length,
    loss: Object.fromEntries(session.identities.map((id) => [id, lastEntry?.loss[id] ?? null])),
    facesPerSecond: median(timed.map((e) => e.facesPerSecond)),
    prepMsPerStep: median(timed.map((e) => e.prepMs)),
    stepMs: median(timed.map((e) => e.stepMs)),
    checkpoint,
    preview,
    stopped,
    diverged: session.diverged,
  };
}
