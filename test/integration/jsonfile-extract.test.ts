// A corrupt alignments.json: extract says so in one line and rebuilds it (split from
// test/unit/jsonfile.test.ts: it runs face detection on a photo).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ALIGNMENTS_FILE, readAlignments } from '../../lib/faces/alignments';
import { extractFaces } from '../../lib/faces/extract';
import { CorruptFile } from '../../lib/util/jsonfile';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deepfake-lab-jsonfile-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const oneLine = (s: string) => assert.ok(!s.includes('\n'), `one line: ${JSON.stringify(s)}`);

test('a corrupt alignments.json: extract says so in one line, rebuilds it, removes orphan crops; a valid one still resumes', { timeout: 300_000 }, async () => {
  const photos = path.join(tmp, 'photos');
  const out = path.join(tmp, 'faces');
  fs.mkdirSync(photos);
  fs.copyFileSync(require.resolve('@vladmandic/face-api/demo/sample1.jpg'), path.join(photos, 'sample1.jpg'));
  fs.mkdirSync(path.join(out, 'rejected', 'blurred'), { recursive: true });
  const alignments = path.join(out, ALIGNMENTS_FILE);
  fs.writeFileSync(alignments, '{"version":1,"images":[{"file":"old.jpg","fa'); // cut off mid-write
  // Crops of the photos the lost file described.
  fs.writeFileSync(path.join(out, 'orphan_0.png'), 'stale crop');
  fs.writeFileSync(path.join(out, 'rejected', 'blurred', 'orphan_1.png'), 'stale crop');
  // Other stages report the damage rather than treating the folder as unextracted.
  assert.throws(() => readAlignments(alignments), (e: Error) => e instanceof CorruptFile && /alignments\.json: not valid JSON.*extract/.test(e.message));

  const lines: string[] = [];
  const r = await extractFaces(photos, out, { progressStream: null, log: (l) => lines.push(l) });
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.ok(lines[0].startsWith(`${alignments}: not valid JSON`), lines[0]);
  oneLine(lines[0]);
  const a = readAlignments(alignments)!;
  assert.deepEqual(a.images.map((i) => i.file), ['sample1.jpg']);
  assert.ok(!fs.existsSync(path.join(out, 'orphan_0.png')), 'the orphan crop is removed');
  assert.ok(!fs.existsSync(path.join(out, 'rejected', 'blurred', 'orphan_1.png')), 'the orphan rejected crop is removed');
  const listed = a.images.flatMap((i) => i.faces.map((f) => f.file!));
  assert.equal(r.written, 3);
  for (const f of listed) assert.ok(fs.existsSync(path.join(out, f)), `${f} written`);
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.endsWith('.png')).sort(), listed.filter((f) => !f.includes(path.sep)).sort());

  const again = await extractFaces(photos, out, { progressStream: null, log: (l) => lines.push(l) });
  assert.equal(again.processed, 0, 'the rebuilt file resumes: the photo is not processed again');
  assert.equal(lines.length, 1, 'nothing more to say');
});
