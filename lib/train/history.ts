// The loss curve: one JSON line per step in <model>/history.jsonl. Appended as training goes;
// on resume, lines after the checkpoint's step are dropped, since those steps are trained again.

import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomicSync } from '../fsutil';

export interface HistoryEntry {
  step: number;
  /** Loss per identity at this step. */
  loss: Record<string, number>;
  /** Learning rate of the step (absent in histories from before the schedule). */
  lr?: number;
  facesPerSecond: number;
  /** Milliseconds spent preparing (loading, augmenting) the batches of this step. */
  prepMs: number;
  /** Milliseconds of the whole step, preparation included. */
  stepMs: number;
  time: string;
}

export function historyFile(modelDir: string): string {
  return path.join(modelDir, 'history.jsonl');
}

/** Entries in order; a line a kill cut short is ignored. */
export function readHistory(modelDir: string): HistoryEntry[] {
  const file = historyFile(modelDir);
  if (!fs.existsSync(file)) return [];
  const out: HistoryEntry[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as HistoryEntry);
    } catch {
      // a partial last line from a killed run
    }
  }
  return out;
}

/** Keep only entries up to `step` (the checkpoint a run resumes from). */
export function truncateHistory(modelDir: string, step: number): HistoryEntry[] {
  const kept = readHistory(modelDir).filter((e) => e.step <= step);
  writeFileAtomicSync(historyFile(modelDir), kept.map((e) => JSON.stringify(e) + '\n').join(''));
  return kept;
}

export function appendHistory(modelDir: string, entry: HistoryEntry): void {
  fs.mkdirSync(modelDir, { recursive: true });
  // One write call per line: a kill leaves at most one partial line, which readHistory skips.
  fs.appendFileSync(historyFile(modelDir), JSON.stringify(entry) + '\n');
}
