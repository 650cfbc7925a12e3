// Every entry point of the native addon refuses malformed arguments with a JavaScript error that
// names the function and the argument, and the process lives on: a wrong call from a notebook
// must not take the Jupyter kernel down (before, `groups = 0` divided by zero and a repeated
// axis in transpose read past the buffer). The convolution cache stays within its bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon, type NativeAddon } from '../../lib/engine/native/addon';
import { nativeSkip } from '../helpers/strict';

const skip = nativeSkip();
const load = loadAddon();
// The addon's own view of its arguments is untyped: these calls pass what TypeScript would refuse.
const raw = (load.ok ? load.addon : null) as unknown as Record<string, (...args: unknown[]) => unknown> | null;
const addon = (load.ok ? load.addon : null) as NativeAddon | null;

const f32 = (n: number) => new Float32Array(n);
// A valid 1x1 convolution: x [1, 4, 4, 2], filter [1, 1, 2, 3], y [1, 4, 4, 3].
const DIMS = [1, 4, 4, 2, 1, 1, 3, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 1];
const dims = (patch: Record<number, number> = {}) => Int32Array.from(DIMS.map((v, i) => patch[i] ?? v));
const conv = (d: Int32Array | unknown, mode: unknown = 0) => raw!.conv2d(mode, f32(32), f32(6), f32(48), d);

function refuses(call: () => unknown, message: RegExp): void {
  assert.throws(call, (e: unknown) => {
    assert.ok(e instanceof Error, 'a JavaScript error');
    assert.match(e.message, message);
    return true;
  });
}

test('conv2d: zero or negative sizes, bad groups, wrong output sizes, overflow and wrong types are refused by name', { skip }, () => {
  refuses(() => conv(dims({ 17: 0 })), /^conv2d: dims\[17\] \(groups\) = 0 must be >= 1/);
  refuses(() => conv(dims({ 1: -5 })), /^conv2d: dims\[1\] \(H\) = -5 must be >= 1/);
  refuses(() => conv(dims({ 17: 3 })), /^conv2d: groups = 3 must be 1, or C = 2/);
  refuses(() => conv(dims({ 7: 5 })), /^conv2d: output 5x4 does not follow from input, filter, stride and padding \(4x4\)/);
  refuses(() => conv(dims({ 4: 9, 5: 9 })), /^conv2d: the dilated filter is larger than the padded input/);
  refuses(() => conv(dims({ 0: 1 << 30, 1: 1 << 30, 2: 1 << 30, 7: 1 << 30, 8: 1 << 30 })), /^conv2d: x: size overflows/);
  refuses(() => conv(dims({ 0: 2 })), /^conv2d: x: array has 32 elements, needs 64/);
  refuses(() => conv(Float32Array.from(DIMS)), /^conv2d: dims must be an Int32Array/);
  refuses(() => conv(Int32Array.from(DIMS.slice(1))), /^conv2d: dims must have 18 entries, got 17/);
  refuses(() => conv(dims(), 3), /^conv2d: mode = 3 is outside \[0, 2\]/);
  refuses(() => conv(dims(), 'forward'), /^conv2d: mode must be a number/);
  refuses(() => raw!.conv2d(0, f32(32), f32(6), f32(48), dims(), f32(3), 9), /^conv2d: activation = 9 is outside/);
  refuses(() => raw!.conv2d(1, f32(48), f32(6), f32(32), dims(), f32(3)), /^conv2d: bias is only for the forward convolution/);
  refuses(() => raw!.conv2d(0, f32(32), [0, 1], f32(48), dims()), /^conv2d: b must be a Float32Array/);
  refuses(() => raw!.conv2d(0, f32(32)), /^conv2d: expects 5 arguments, got 2/);
  // The same call with valid arguments works afterwards: y = x @ filter.
  const x = Float32Array.from({ length: 32 }, (_, i) => i % 2 === 0 ? 1 : 2);
  const w = Float32Array.from([1, 0, 1, 0, 1, 1]);  // [C=2][OC=3]
  const y = f32(48);
  addon!.conv2d(0, x, w, y, dims());
  assert.deepEqual(Array.from(y.slice(0, 3)), [1, 2, 3]);
});

test('convLeakyBackward: short arrays, alpha <= 0, groups and strided 1x1 filters are refused by name; dx may be null', { skip }, () => {
  // x [1, 4, 4, 2], filter [1, 1, 2, 3], dy and y [1, 4, 4, 3], as DIMS.
  const back = (patch: Record<number, unknown> = {}) => {
    const args: unknown[] = [f32(48), f32(48), f32(32), f32(6), dims(), 0.2, f32(32), f32(6), f32(3)];
    for (const [i, v] of Object.entries(patch)) args[Number(i)] = v;
    return raw!.convLeakyBackward(...args);
  };
  refuses(() => back({ 1: f32(47) }), /^convLeakyBackward: y: array has 47 elements, needs 48/);
  refuses(() => back({ 8: f32(2) }), /^convLeakyBackward: db: array has 2 elements, needs 3/);
  refuses(() => back({ 5: 0 }), /^convLeakyBackward: alpha must be > 0/);
  refuses(() => back({ 5: Number.NaN }), /^convLeakyBackward: alpha must be finite/);
  refuses(() => back({ 4: dims({ 17: 2, 6: 4 }) }), /^convLeakyBackward: groups must be 1/); // depthwise
  refuses(() => back({ 4: dims({ 0: 2 }) }), /^convLeakyBackward: dy: array has 48 elements, needs 96/);
  refuses(() => back({ 4: dims({ 9: 2, 10: 2, 7: 2, 8: 2 }) }), /^convLeakyBackward: a strided 1x1 filter is not supported here/);
  refuses(() => raw!.convLeakyBackward(f32(48)), /^convLeakyBackward: expects 9 arguments, got 1/);
  // Valid: y > 0 passes dy, y <= 0 scales it by alpha; db sums dz over the pixels; dx = dz @ filter^T.
  const dy = Float32Array.from({ length: 48 }, () => 1), y = Float32Array.from({ length: 48 }, (_, i) => (i < 24 ? 1 : -1));
  const x = Float32Array.from({ length: 32 }, () => 1), w = Float32Array.from([1, 0, 1, 0, 1, 1]);
  const dx = f32(32), dw = f32(6), db = f32(3);
  addon!.convLeakyBackward(dy, y, x, w, dims(), 0.5, dx, dw, db);
  assert.deepEqual(Array.from(db), [8 + 4, 8 + 4, 8 + 4]);
  assert.deepEqual(Array.from(dx.slice(0, 2)), [2, 2]);        // first pixel: dz = 1, 1, 1
  assert.deepEqual(Array.from(dx.slice(-2)), [1, 1]);          // last pixel: dz = 0.5, 0.5, 0.5
  assert.deepEqual(Array.from(dw), [12, 12, 12, 12, 12, 12]);  // x = 1: each entry sums dz
  // dx null: no input gradient, the same dw and db; a dx of another type is still refused.
  const dw2 = f32(6), db2 = f32(3);
  addon!.convLeakyBackward(dy, y, x, w, dims(), 0.5, null, dw2, db2);
  assert.deepEqual(Array.from(dw2), Array.from(dw));
  assert.deepEqual(Array.from(db2), Array.from(db));
  refuses(() => back({ 6: new Int32Array(32) }), /^convLeakyBackward: dx must be a Float32Array/);
  refuses(() => back({ 6: f32(31) }), /^convLeakyBackward: dx: array has 31 elements, needs 32/);
});

test('matMul: batches that do not broadcast, zero sizes, non-boolean transposes, short arrays', { skip }, () => {
  const mm = (...args: unknown[]) => raw!.matMul(...args);
  refuses(() => mm(f32(8), f32(12), f32(24), 2, 3, 2, 2, 2, false, false), /^matMul: batches 2 and 3 do not broadcast/);
  refuses(() => mm(f32(8), f32(12), f32(24), 1, 1, 0, 2, 2, false, false), /^matMul: M = 0 is outside \[1, /);
  refuses(() => mm(f32(8), f32(12), f32(24), 1, 1, 2, 2, 2, 1, false), /^matMul: transposeA must be a boolean/);
  refuses(() => mm(f32(3), f32(4), f32(4), 1, 1, 2, 2, 2, false, false), /^matMul: a: array has 3 elements, needs 4/);
  refuses(() => mm(f32(4), f32(4), f32(4), 1, 1, 2, 2, 2, false, false, f32(3)), /^matMul: bias must have N or 1 elements/);
  refuses(() => mm(f32(4), f32(4), f32(4), 1, 1, 2.5, 2, 2, false, false), /^matMul: M must be an integer/);
  const c = f32(4);
  addon!.matMul(Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 0, 0, 1]), c, 1, 1, 2, 2, 2, false, false);
  assert.deepEqual(Array.from(c), [1, 2, 3, 4]);
});

test('bytesToF32: wrong element types and sizes are refused by name; every byte value converts exactly', { skip }, () => {
  refuses(() => raw!.bytesToF32(f32(4), f32(4)), /^bytesToF32: bytes must be a Uint8Array/);
  refuses(() => raw!.bytesToF32(new Uint8Array(4), new Uint8Array(4)), /^bytesToF32: out must be a Float32Array/);
  refuses(() => raw!.bytesToF32(new Uint8Array(4), f32(3)), /^bytesToF32: out: array has 3 elements, needs 4/);
  refuses(() => raw!.bytesToF32(new Uint8Array(4)), /^bytesToF32: expects 2 arguments/);
  // Above the parallel threshold, and not a multiple of 16 (the streaming path's tail).
  const bytes = Uint8Array.from({ length: 300_005 }, (_, i) => (i * 7) % 256);
  const out = f32(bytes.length);
  addon!.bytesToF32(bytes, out);
  assert.deepEqual(out, Float32Array.from(bytes));
  // Into arrays starting on a 64-byte boundary (the streaming stores) and 4 bytes past one.
  for (const offset of [0, 4]) {
    const buffer = new ArrayBuffer(bytes.length * 4 + 128);
    const start = (64 - addon!.addressMod64(buffer)) % 64 + offset;
    const view = new Float32Array(buffer, start, bytes.length);
    addon!.bytesToF32(bytes, view);
    assert.deepEqual(view, Float32Array.from(bytes), `output ${offset} bytes past a 64-byte boundary`);
  }
});

test('addressMod64: anything but an ArrayBuffer is refused by name; a buffer\'s address modulo 64 is an integer in [0, 64)', { skip }, () => {
  refuses(() => raw!.addressMod64(f32(4)), /^addressMod64: buffer must be an ArrayBuffer/);
  refuses(() => raw!.addressMod64(), /^addressMod64: expects 1 arguments/);
  const at = addon!.addressMod64(new ArrayBuffer(1 << 20));
  assert.ok(Number.isInteger(at) && at >= 0 && at < 64, `address mod 64 = ${at}`);
});

test('augment: wrong element types, parameter counts, grid and batch sizes and mismatched maps are refused by name', { skip }, () => {
  const size = 8, px = size * size, u8 = new Uint8Array(px * 3), params = Float64Array.of(1, 0, 4, 0, 0, 0, 5);
  const go = (over: Record<number, unknown>) => {
    const args: unknown[] = [u8, u8, size, params, f32(50), f32(px * 3 * 2), f32(px * 3 * 2), 1, [f32(px)], [f32(px * 2)]];
    for (const [i, v] of Object.entries(over)) args[Number(i)] = v;
    return () => raw!.augment(...args);
  };
  go({})(); // the arguments above are right
  refuses(go({ 0: f32(px * 3) }), /^augment: src must be a Uint8Array/);
  refuses(go({ 1: new Uint8Array(5) }), /^augment: inputSrc: array has 5 elements, needs 192/);
  refuses(go({ 3: new Float32Array(7) }), /^augment: params must be a Float64Array/);
  refuses(go({ 3: Float64Array.of(1, 0, 4) }), /^augment: params must hold 7 numbers/);
  refuses(go({ 3: Float64Array.of(1, 0, 4, Number.NaN, 0, 0, 5) }), /^augment: params\[3\] must be finite/);
  refuses(go({ 3: Float64Array.of(1, 0, 4, 0, 0, 0, 1) }), /^augment: the warp grid's side/);
  refuses(go({ 4: f32(49) }), /^augment: grid: array has 49 elements, needs 50/);
  refuses(go({ 5: f32(px * 3) }), /^augment: input and target must hold face 1/);
  refuses(go({ 8: [f32(px)], 9: [] }), /^augment: mapSrc and mapDst must have the same length/);
  refuses(go({ 8: [f32(px - 1)] }), /^augment: mapSrc\[i\]: array has 63 elements, needs 64/);
  refuses(go({ 9: [f32(px)] }), /^augment: mapDst\[0\] must hold face 1/);
  refuses(go({ 7: -1 }), /^augment: at = -1 is outside/);
});

test('element-wise, reductions and Adam: unknown ops, wrong element types, negative counts, non-finite scalars', { skip }, () => {
  refuses(() => raw!.unary(99, f32(4), f32(4)), /^unary: op = 99 is outside \[0, 17\]/);
  refuses(() => raw!.unary(0, f32(4), f32(2)), /^unary: y: array has 2 elements, needs 4/);
  refuses(() => raw!.binary(0, f32(3), f32(2), f32(6)), /^binary: operands must be full size, scalar, or a trailing block/);
  refuses(() => raw!.binary(7, f32(2), f32(2), f32(2)), /^binary: op = 7 is outside/);
  refuses(() => raw!.compare(0, f32(2), f32(2), f32(2)), /^compare: out must be a Uint8Array/);
  refuses(() => raw!.select(f32(2), f32(2), f32(2), f32(2)), /^select: cond must be a Uint8Array/);
  refuses(() => raw!.reduce(f32(4), -1, 2, 2, f32(2), 1), /^reduce: outer = -1 is outside/);
  refuses(() => raw!.reduce(f32(4), 1, 4, 1, f32(1), Number.NaN), /^reduce: scale must be a number|^reduce: scale must be finite/);
  const p = f32(4);
  refuses(() => raw!.adam(p, f32(4), f32(4), f32(4), 0.1, 0.9, 0.999, 1e-7, 0, 0.5, p, f32(4), f32(4)), /^adam: the bias corrections/);
  refuses(() => raw!.adam(p, f32(4), f32(4), f32(4), Number.POSITIVE_INFINITY, 0.9, 0.999, 1e-7, 0.1, 0.5, p, f32(4), f32(4)), /^adam: lr must be finite/);
  refuses(() => raw!.adam(p, f32(4), f32(3), f32(4), 0.1, 0.9, 0.999, 1e-7, 0.1, 0.5, p, f32(4), f32(4)), /^adam: v: array has 3 elements, needs 4/);
  const y = f32(3);
  addon!.unary(0, Float32Array.from([-1, 2, -3]), y);
  assert.deepEqual(Array.from(y), [1, 2, 3]);
});

test('transpose and depthToSpace: a repeated axis, wrong element types, block 0 and channels not divisible', { skip }, () => {
  refuses(() => raw!.transpose(f32(4), Int32Array.from([2, 2]), Int32Array.from([0, 0]), f32(4)), /^transpose: perm is not a permutation of the axes/);
  refuses(() => raw!.transpose(f32(4), Int32Array.from([2, 2]), Int32Array.from([0, 2]), f32(4)), /^transpose: perm is not a permutation/);
  refuses(() => raw!.transpose(f32(4), [2, 2], Int32Array.from([1, 0]), f32(4)), /^transpose: shape must be an Int32Array/);
  refuses(() => raw!.transpose(f32(4), Int32Array.from([2, -2]), Int32Array.from([1, 0]), f32(4)), /^transpose: shape\[1\] is negative/);
  refuses(() => raw!.transpose(f32(4), Int32Array.from([1, 1, 1, 1, 1, 1, 4]), Int32Array.from([0, 1, 2, 3, 4, 5, 6]), f32(4)), /^transpose: rank must be 1 to 6, got 7/);
  refuses(() => raw!.depthToSpace(f32(16), 1, 2, 2, 4, 0, f32(16), false), /^depthToSpace: block = 0 is outside \[1, /);
  refuses(() => raw!.depthToSpace(f32(12), 1, 2, 2, 3, 2, f32(12), false), /^depthToSpace: C = 3 is not a multiple of block\^2 = 4/);
  refuses(() => raw!.depthToSpace(f32(16), 1, 2, 2, 4, 2, f32(16), 0), /^depthToSpace: inverse must be a boolean/);
  const out = f32(4);
  addon!.transpose(Float32Array.from([1, 2, 3, 4]), Int32Array.from([2, 2]), Int32Array.from([1, 0]), out);
  assert.deepEqual(Array.from(out), [1, 3, 2, 4]);
});

test('the convolution primitive cache is bounded: many shapes evict the oldest, and an evicted shape still computes right', { skip }, () => {
  const info = () => addon!.cacheInfo();
  const start = info();
  const shapes = start.capacity + 20;
  for (let side = 1; side <= shapes; side++) {
    const d = Int32Array.from([1, side, 1, 1, 1, 1, 1, side, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1]);
    addon!.conv2d(0, f32(side).fill(2), Float32Array.from([3]), f32(side), d);
  }
  const end = info();
  assert.ok(end.entries <= end.capacity, `${end.entries} entries, capacity ${end.capacity}`);
  assert.ok(end.built - start.built >= shapes, 'each new shape was built');
  assert.ok(end.evicted - start.evicted >= 20, `evicted ${end.evicted - start.evicted}`);
  const y = f32(1);
  addon!.conv2d(0, Float32Array.from([2]), Float32Array.from([3]), y, Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1]));
  assert.equal(y[0], 6);
});

test('leakyReluGrad: short arrays and a non-finite alpha are refused', { skip }, () => {
  refuses(() => raw!.leakyReluGrad(f32(4), f32(3), f32(4), 0.2), /^leakyReluGrad: x: array has 3 elements, needs 4/);
  refuses(() => raw!.leakyReluGrad(f32(4), f32(4), f32(4), Number.NaN), /^leakyReluGrad: alpha must be finite/);
  const out = f32(3);
  addon!.leakyReluGrad(Float32Array.from([1, 2, 3]), Float32Array.from([1, 0, -1]), out, 0.5);
  assert.deepEqual(Array.from(out), [1, 1, 1.5]);
});
