// Usage errors through the argument parser: each exits 2 with one line on stderr that names the
// option and what it allows; --help lists a command's options and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli';

function oneLine(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  return lines[0]!;
}

test('train --lr -1: a negative number is a value, refused with the allowed range', () => {
  const line = oneLine(['train', '--a', 'x', '--b', 'y', '--model', 'z', '--lr', '-1']);
  assert.match(line, /--lr must be a number from 1e-0?9 to 1, got -1/);
});

test('an unknown option, a bad choice, a missing value and a stray argument exit 2 with one line', () => {
  assert.match(oneLine(['train', '--a', 'x', '--b', 'y', '--model', 'z', '--bogus']), /unknown option '--bogus'/);
  assert.match(oneLine(['train', '--a', 'x', '--b', 'y', '--model', 'z', '--schedule', 'linear']), /--schedule must be constant or cosine, got linear/);
  assert.match(oneLine(['extract', '--in', 'x', '--out', 'y', '--detector', 'yolo']), /--detector must be ssd or tiny, got yolo/);
  assert.match(oneLine(['samples', '--out']), /--out/);
  assert.match(oneLine(['samples', '--out', 'x', 'stray']), /too many arguments/);
  assert.match(oneLine(['train', '--a', 'x', '--b', 'y', '--model', 'z', '--batch', '2.5']), /--batch must be an integer from 1 to 4096, got 2.5/);
});

test('--help for a command exits 0 and lists its options with their defaults', () => {
  const r = runCli(['train', '--help']);
  assert.equal(r.status, 0, r.stderr);
  for (const flag of ['--a', '--b', '--model', '--recipe', '--steps', '--minutes', '--lr', '--beta1', '--batch', '--schedule', '--mask-weighted', '--timelapse', '--json'])
    assert.match(r.stdout, new RegExp(`${flag}\\b`), flag);
  assert.match(r.stdout, /Usage: deepfake-lab train/);
  const swap = runCli(['swap', '-h']);
  assert.equal(swap.status, 0, swap.stderr);
  assert.match(swap.stdout, /--colour/);
});
