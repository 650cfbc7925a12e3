// Progress of long work on standard error: count, rate and ETA. A live bar on a terminal, a line
// every few seconds otherwise (logs, CI). Notebooks pass onUpdate to draw their own.

import { SingleBar } from 'cli-progress';

export interface ProgressState {
  label: string;
  done: number;
  total: number;
  /** Items per second since start. */
  rate: number;
  /** Seconds left at the current rate; NaN before the first item. */
  etaSeconds: number;
}

export interface ProgressOptions {
  /** Where the bar goes; default process.stderr. null: nowhere (only onUpdate). */
  stream?: NodeJS.WriteStream | null;
  /** Called after every tick. */
  onUpdate?: (state: ProgressState) => void;
  /** Unit shown after the rate, e.g. "images". */
  unit?: string;
}

export class Progress {
  private readonly bar: SingleBar | null;
  private readonly started = Date.now();
  private done = 0;

  constructor(private readonly label: string, private readonly total: number, private readonly options: ProgressOptions = {}) {
    const stream = options.stream === undefined ? process.stderr : options.stream;
    const unit = options.unit ?? 'items';
    this.bar = stream
      ? new SingleBar({
          stream,
          format: `${label} [{bar}] {value}/{total} | {rate} ${unit}/s | ETA {eta_formatted}`,
          barsize: 24,
          noTTYOutput: true,
          notTTYSchedule: 5000,
          etaBuffer: 50,
          hideCursor: false,
        })
      : null;
    this.bar?.start(total, 0, { rate: '0.0' });
  }

  state(): ProgressState {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    return { label: this.label, done: this.done, total: this.total, rate, etaSeconds: rate > 0 ? (this.total - this.done) / rate : NaN };
  }

  tick(n = 1): void {
    this.done += n;
    const s = this.state();
    this.bar?.update(this.done, { rate: s.rate.toFixed(1) });
    this.options.onUpdate?.(s);
  }

  stop(): ProgressState {
    this.bar?.stop();
    return this.state();
  }
}
