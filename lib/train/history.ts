// The loss curve: one JSON line per step in <model>/history.jsonl. Appended as training goes;
// on resume, lines after the checkpoint's step are dropped, since those steps are trained again.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../util/fsutil';
import { JsonNumber, readJsonLines } from '../util/jsonfile';

export const HistoryEntrySchema = z.object({
  step: z.number(),
  /** Loss per identity at this step. A diverged step's NaN loss is stored as null (JSON has no NaN) and read back as NaN. */
  loss: z.record(z.string(), JsonNumber),
  /** Learning rate of the step (absent in histories from before the schedule). */
  lr: JsonNumber.optional(),
  facesPerSecond: JsonNumber,
  /** Milliseconds spent preparing (loading, augmenting) the batches of this step. */
  prepMs: JsonNumber,
  /** Milliseconds of the whole step, preparation included. */
  stepMs: JsonNumber,
  time: z.string(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

export function historyFile(modelDir: string): string {
  return path.join(modelDir, 'history.jsonl');
}

/**
 * Entries in order. A last line a kill cut short is left out quietly; a damaged line before it is
 * left out and said in one line (naming the file and line) through `warn`.
 */
export function readHistory(modelDir: string, warn: (line: string) => void = (line) => console.warn(line)): HistoryEntry[] {
  const { records, problems } = readJsonLines(historyFile(modelDir), HistoryEntrySchema);
  for (const p of problems) warn(p);
  return records;
}

/** Keep only entries up to `step` (the checkpoint a run resumes from); damaged lines are dropped. */
export function truncateHistory(modelDir: string, step: number, warn?: (line: string) => void): HistoryEntry[] {
  const kept = readHistory(modelDir, warn).filter((e) => e.step <= step);
  writeFileAtomicSync(historyFile(modelDir), kept.map((e) => JSON.stringify(e) + '\n').join(''));
  return kept;
}

export function appendHistory(modelDir: string, entry: HistoryEntry): void {
  fs.mkdirSync(modelDir, { recursive: true });
  // One write call per line: a kill leaves at most one partial line, which readHistory skips.
  fs.appendFileSync(historyFile(modelDir), JSON.stringify(entry) + '\n');
}
