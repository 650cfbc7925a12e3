// Locating ../shared (real photos and hostile files), which a user's fresh clone does not have.
import * as fs from 'fs';
import * as path from 'path';
import { needs } from './strict';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Absolute path of ../shared/<rel>, or null when it is absent. */
export function sharedPath(rel: string): string | null {
  const p = path.resolve(PROJECT_ROOT, '..', 'shared', rel);
  return fs.existsSync(p) ? p : null;
}

/**
 * For node:test's `skip` option: a message when the shared data is missing, else false. In strict
 * mode (CI) its absence fails the suite instead (see helpers/strict.ts).
 */
export function skipWithoutShared(rel: string): string | false {
  return needs(`../shared/${rel}`, sharedPath(rel) ? false : `../shared/${rel} is absent (it sits beside the checkout in CI and dev machines only)`);
}
