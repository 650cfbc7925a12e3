// The training loop: the one place that steps a session. The CLI, the notebooks, `bench --quality`,
// the recipe comparison, the speed benchmark, the kernel profile and the backend calibration all
// train through runTraining, with a budget in steps or seconds and callbacks for what they show.

import { Progress } from '../util/progress';
import { median } from '../util/stats';
import type { Divergence } from './divergence';
import type { HistoryEntry } from './history';
import type { TrainingSession } from './session';

export interface RunOptions {
  /** Train until the session reaches this step (a resumed run continues towards it). */
  steps?: number;
  /** ...or for this many seconds of training steps (pictures and checkpoints not counted), whichever comes first. */
  seconds?: number;
  /** Checkpoint every N steps (and at the end). Default 100; 0: only at the end. */
  checkpointEvery?: number;
  /** Preview grid every N steps (and at the end). Default 100; 0: only at the end. */
  previewEvery?: number;
  /** A checkpoint and a preview when the run ends. Default: true (false for a session without a folder). */
  save?: boolean;
  /** Called after every step, e.g. by a notebook to draw the loss curve. */
  onStep?: (entry: HistoryEntry, session: TrainingSession) => void;
  /**
   * Called every `steps` steps or `seconds` seconds (wall time since the last call), whichever
   * comes first, and after the last step: a notebook shows a picture there.
   */
  every?: { steps?: number; seconds?: number; call: (session: TrainingSession) => void | Promise<void> };
  /** Runs one step; a profiler wraps it to see the kernels inside. Default: session.trainStep(). */
  step?: (session: TrainingSession) => Promise<HistoryEntry>;
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
  /** Seconds those steps took (the sum of their step times). */
  seconds: number;
  /** Last loss per identity (null when nothing was trained, ever). */
  loss: Record<string, number | null>;
  /** Median faces per second over this call's steps after the first (warm-up); 0 when none. */
  facesPerSecond: number;
  /** Median data-preparation milliseconds per step (all identities' batches). */
  prepMsPerStep: number;
  /** Median milliseconds per step, preparation included. */
  stepMs: number;
  /** The newest checkpoint written by this call (null when none was). */
  checkpoint: string | null;
  preview: string | null;
  /** Stopped by the signal or a divergence before the budget was spent. */
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

/** Train `session` until its step budget or its seconds budget is spent (neither: until `signal`). */
export async function runTraining(session: TrainingSession, options: RunOptions): Promise<RunResult> {
  const { steps = Infinity, seconds = Infinity, checkpointEvery = 100, previewEvery = 100, logSeconds = 2, every } = options;
  const save = options.save ?? session.persistent;
  const stream = options.stream === undefined ? process.stderr : options.stream;
  const step = options.step ?? ((s: TrainingSession) => s.trainStep());
  const progress = new Progress('train', Number.isFinite(steps) ? Math.max(0, steps - session.step) : 0, { stream: null });
  const entries: HistoryEntry[] = [];
  let checkpoint: string | null = null;
  let preview: string | null = null;
  let trainedSeconds = 0;
  let lastLog = 0;
  let stopped = false;
  let lastCall = { step: session.step, at: performance.now() };
  const spent = () => session.step >= steps || trainedSeconds >= seconds;

  while (!spent()) {
    if (options.signal?.aborted) {
      stopped = true;
      break;
    }
    const entry = await step(session);
    entries.push(entry);
    trainedSeconds += entry.stepMs / 1000;
    progress.tick();
    options.onStep?.(entry, session);
    if (session.diverged) {
      stream?.write(`train: ${divergenceAdvice(session.diverged, entry.lr)}\n`);
      stopped = true;
      break;
    }
    const last = spent();
    if (stream && (last || performance.now() - lastLog > logSeconds * 1000)) {
      lastLog = performance.now();
      const losses = Object.entries(entry.loss).map(([id, l]) => `${id} ${l.toFixed(4)}`).join(' ');
      const eta = Number.isFinite(steps) ? progress.state().etaSeconds : seconds - trainedSeconds;
      stream.write(`step ${entry.step}${Number.isFinite(steps) ? `/${steps}` : ''}  loss ${losses}  ${entry.facesPerSecond.toFixed(1)} faces/s  ETA ${formatSeconds(eta)}\n`);
    }
    if (save && !last) {
      if (previewEvery > 0 && session.step % previewEvery === 0) preview = await session.writePreview();
      if (checkpointEvery > 0 && session.step % checkpointEvery === 0) checkpoint = await session.saveCheckpoint();
    }
    if (every && !last && (session.step - lastCall.step >= (every.steps ?? Infinity) || performance.now() - lastCall.at >= (every.seconds ?? Infinity) * 1000)) {
      await every.call(session);
      lastCall = { step: session.step, at: performance.now() };
    }
    // Let signal handlers run: a wasm step never yields to the event loop by itself.
    await new Promise((r) => setImmediate(r));
  }
  if (save) {
    checkpoint = await session.saveCheckpoint();
    preview = await session.writePreview();
  }
  if (every && entries.length > 0) await every.call(session);
  progress.stop();

  const timed = entries.length > 1 ? entries.slice(1) : entries;
  const lastEntry = session.history[session.history.length - 1];
  return {
    steps: session.step,
    trained: entries.length,
    seconds: trainedSeconds,
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
