// Decoding any image a user may hand over into plain 8-bit RGB, and back.
//
// Scraped folders hold broken, hostile and odd files. Every one either decodes correctly
// (EXIF orientation applied, CMYK/grey/16-bit converted to 8-bit sRGB, alpha dropped, the first
// frame of an animation) or is refused with a named reason; nothing here throws anything else.
// sharp (libvips) does the decoding; its pixel limit stays on so a decompression bomb is refused
// from its header, before any pixel is decoded.

import { promises as fs } from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';

/** Why an input was not used. Stable strings: reports count skips by these. */
export type RejectReason =
  | 'empty file'
  | 'file too large'
  | 'not an image'
  | 'svg is not a photo input'
  | 'unsupported format'
  | 'too many pixels'
  | 'corrupt'
  | 'too small'
  | 'unreadable';

export class ImageRejected extends Error {
  constructor(readonly reason: RejectReason, readonly detail: string) {
    super(`${reason}: ${detail}`);
    this.name = 'ImageRejected';
  }
}

export interface RgbImage {
  /** Interleaved RGB, row-major, 8 bits per channel: width * height * 3 bytes. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodedImage extends RgbImage {
  /** Container format as detected from the bytes (not the file name). */
  format: ImageFormat;
  /** What was changed on the way (EXIF rotation, CMYK conversion, ...), for reports. */
  notes: string[];
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this (sharp's default, 0x3FFF squared). */
  maxPixels?: number;
  /** Refuse files larger than this many bytes before reading them. Default 64 MiB. */
  maxBytes?: number;
  /** Refuse images whose shorter side is below this. Default 32 px. */
  minSide?: number;
}

export const DEFAULT_DECODE: Required<DecodeOptions> = {
  maxPixels: 0x3fff * 0x3fff,
  maxBytes: 64 * 1024 * 1024,
  minSide: 32,
};

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** File name extensions worth looking at in a folder; anything else is ignored by name. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.svg']);

/** Identify the container from its first bytes; the file name is not trusted. */
export function sniffFormat(head: Uint8Array): ImageFormat | 'svg' | 'text' | null {
  const b = head;
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && ascii(1, 4) === 'PNG' && b[0] === 0x89) return 'png';
  if (b.length >= 6 && ascii(0, 4) === 'GIF8') return 'gif';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (b.length >= 4 && ((ascii(0, 2) === 'II' && b[2] === 42 && b[3] === 0) || (ascii(0, 2) === 'MM' && b[2] === 0 && b[3] === 42)))
    return 'tiff';
  if (b.length >= 12 && ascii(4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(8, 12))) return 'avif';
  const text = Buffer.from(b.subarray(0, 512)).toString('utf8').trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) return 'svg';
  // Printable text (an HTML error page, a note) is the commonest non-image with an image name.
  if (b.length > 0 && b.subarray(0, 512).every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128)) return 'text';
  return null;
}

/** Decode a file or buffer to 8-bit RGB; throws ImageRejected with a named reason otherwise. */
export async function decodeImage(input: string | Buffer, options: DecodeOptions = {}): Promise<DecodedImage> {
  const opts = { ...DEFAULT_DECODE, ...options };
  const bytes = typeof input === 'string' ? await readBounded(input, opts.maxBytes) : input;
  if (bytes.length === 0) throw new ImageRejected('empty file', '0 bytes');
  if (bytes.length > opts.maxBytes) throw new ImageRejected('file too large', `${bytes.length} bytes > ${opts.maxBytes}`);

  const kind = sniffFormat(bytes.subarray(0, 512));
  if (kind === 'svg') throw new ImageRejected('svg is not a photo input', 'vector drawing (never rendered, so nothing it references is fetched)');
  if (kind === 'text') {
    const html = /<(!doctype|html|body|head)/i.test(bytes.subarray(0, 512).toString('utf8'));
    throw new ImageRejected('not an image', html ? 'an HTML page' : 'text');
  }
  if (kind === null) throw new ImageRejected('unsupported format', 'unrecognised file signature');

  // Header only: dimensions, orientation, colour space; a bomb is refused here.
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (e) {
    throw new ImageRejected('corrupt', oneLine(e));
  }
  const { width = 0, height = 0 } = meta;
  if (width * height > opts.maxPixels)
    throw new ImageRejected('too many pixels', `${width}x${height} exceeds the ${opts.maxPixels}-pixel limit`);
  const rotated = (meta.orientation ?? 1) >= 5;
  const [w, h] = rotated ? [height, width] : [width, height];
  if (Math.min(w, h) < opts.minSide) throw new ImageRejected('too small', `${w}x${h}, below ${opts.minSide} px`);

  const notes: string[] = [];
  if ((meta.orientation ?? 1) !== 1) notes.push(`EXIF orientation ${meta.orientation} applied`);
  if (meta.space && meta.space !== 'srgb') notes.push(`converted from ${meta.space}`);
  if (meta.hasAlpha) notes.push('alpha dropped');
  if (meta.depth && meta.depth !== 'uchar') notes.push(`reduced from ${meta.depth} to 8 bits`);
  if ((meta.pages ?? 1) > 1) notes.push(`first of ${meta.pages} frames`);

  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: opts.maxPixels, failOn: 'truncated', pages: 1 })
      .rotate() // applies and drops EXIF orientation
      .toColourspace('srgb')
      // Drop alpha rather than flatten it: the stored colours are the photo; flattening a
      // half-transparent photo onto white would wash the face out.
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, format: kind, notes };
  } catch (e) {
    throw new ImageRejected('corrupt', oneLine(e));
  }
}

/** Test with `r.ok === false`, not `!r.ok`: notebooks compile without strictNullChecks, where only
 * the comparison narrows the union (tsconfig.notebook.json checks this). */
export type DecodeResult = { ok: true; image: DecodedImage } | { ok: false; reason: RejectReason; detail: string };

/** decodeImage that returns the refusal instead of throwing it: for loops over many files. */
export async function tryDecodeImage(input: string | Buffer, options?: DecodeOptions): Promise<DecodeResult> {
  try {
    return { ok: true, image: await decodeImage(input, options) };
  } catch (e) {
    if (e instanceof ImageRejected) return { ok: false, reason: e.reason, detail: e.detail };
    return { ok: false, reason: 'unreadable', detail: oneLine(e) };
  }
}

async function readBounded(file: string, maxBytes: number): Promise<Buffer> {
  let size: number;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new ImageRejected('unreadable', 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof ImageRejected) throw e;
    throw new ImageRejected('unreadable', oneLine(e));
  }
  if (size > maxBytes) throw new ImageRejected('file too large', `${size} bytes > ${maxBytes}`);
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw new ImageRejected('unreadable', oneLine(e));
  }
}

export interface FolderListing {
  /** Candidate image files, sorted by name, as absolute paths. */
  files: string[];
  /** Entries skipped by name alone, with why: hidden files, folders, non-image names. */
  ignored: Array<{ file: string; reason: string }>;
}

/** The files in a folder worth trying to decode. Hidden files (sync tags, .DS_Store) are ignored. */
export async function listImageFiles(dir: string): Promise<FolderListing> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  const ignored: FolderListing['ignored'] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, e.name);
    if (e.name.startsWith('.')) ignored.push({ file: full, reason: 'hidden file' });
    else if (!e.isFile()) ignored.push({ file: full, reason: 'not a file' });
    else if (!IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) ignored.push({ file: full, reason: 'not an image file name' });
    else files.push(full);
  }
  return { files, ignored };
}

/** The box in whole pixels: its edges rounded outwards and clipped to a width x height image (at least 1x1). */
export function pixelBox(box: { x: number; y: number; width: number; height: number }, width: number, height: number): { x: number; y: number; width: number; height: number } {
  const x = Math.max(0, Math.min(width - 1, Math.floor(box.x))), y = Math.max(0, Math.min(height - 1, Math.floor(box.y)));
  return { x, y, width: Math.max(1, Math.min(width, Math.ceil(box.x + box.width)) - x), height: Math.max(1, Math.min(height, Math.ceil(box.y + box.height)) - y) };
}

/** The pixels of `img` inside the box (see pixelBox). */
export function cutBox(img: RgbImage, box: { x: number; y: number; width: number; height: number }): RgbImage {
  const b = pixelBox(box, img.width, img.height);
  const data = new Uint8Array(b.width * b.height * 3);
  for (let y = 0; y < b.height; y++) data.set(img.data.subarray(((b.y + y) * img.width + b.x) * 3, ((b.y + y) * img.width + b.x + b.width) * 3), y * b.width * 3);
  return { data, width: b.width, height: b.height };
}

// ---- image <-> tensor -------------------------------------------------------------------------

/**
 * What a backend may offer to convert 8-bit pixels to and from its own float arrays in compiled
 * code. The native backend does (lib/engine/native/native-backend.ts); this file only asks for the two
 * methods, so the image layer does not depend on the engine above it.
 */
export interface ByteConverter {
  /** A float32 tensor [h, w, c] of the bytes' values (0-255). */
  fromBytes(bytes: Uint8Array, shape: number[]): tf.TensorInfo;
  /** RGB bytes of a [h, w, 1 or 3] float tensor times k (clipped, rounded), or null when it cannot. */
  toBytes(t: tf.TensorInfo, k: number, channels: number): Uint8Array | null;
}

function byteConverter(backend: tf.KernelBackend): ByteConverter | null {
  const b = backend as Partial<ByteConverter>;
  return typeof b.fromBytes === 'function' && typeof b.toBytes === 'function' ? (b as ByteConverter) : null;
}

/** [height, width, 3] float32 in [0, 1]. The caller owns (and disposes) the tensor. */
export function imageToTensor(img: RgbImage): tf.Tensor3D {
  return tf.tidy(() => tf.div(pixelTensor(img), 255) as tf.Tensor3D);
}

/**
 * [height, width, 3] float32 holding 0-255, as face-api's nets take them. On native the addon
 * converts the bytes into a recycled array (a 1920 px photo: 9 ms in JavaScript, and a new 32 MB
 * array for the garbage collector every photo). Elsewhere one typed-array conversion: a tensor
 * from the bytes as int32 goes through tfjs's element-by-element copy, and the cpu backend's cast
 * to float32 then keeps an Int32Array that compiled kernels cannot read.
 */
export function pixelTensor(img: RgbImage): tf.Tensor3D {
  const shape: [number, number, number] = [img.height, img.width, 3];
  const fast = byteConverter(tf.backend());
  if (fast) return tf.engine().makeTensorFromTensorInfo(fast.fromBytes(img.data, shape)) as tf.Tensor3D;
  return tf.tensor3d(new Float32Array(img.data), shape, 'float32');
}

/**
 * Back to 8-bit RGB from a [h, w, 3] (or [h, w, 1]) tensor in [0, 1] (or [0, 255]: range 255);
 * values are clipped, scaled to 255 and rounded (halves to even; NaN gives 0), as clipByValue,
 * mul, round and toInt would.
 * Done on the read values: those four kernels and a tile cost 2 ms per 256 px crop on native
 * (Cast to int32 runs in JavaScript there), this loop a fraction of that.
 */
export async function tensorToImage(t: tf.Tensor3D, range: 1 | 255 = 1): Promise<RgbImage> {
  const [height, width, channels] = t.shape;
  const k = 255 / range;
  // On native the addon converts the tensor's own array: no 0.8 MB copy to read a 256 px crop,
  // and no loop here (extraction writes every crop through this; paired on the demo photos it ran
  // 3-8% faster).
  const fast = channels === 1 || channels === 3 ? byteConverter(tf.backend()) : null;
  const bytes = fast?.toBytes(t, k, channels);
  if (bytes) return { data: bytes, width, height };
  const values = await t.data();
  // A Uint8ClampedArray clamps to [0, 255] and rounds halves to even on assignment. fround gives
  // the float32 product TensorFlow.js's Multiply would (the double product of two float32 values
  // is exact), so even a product that lands on a half rounds the same way.
  const out = new Uint8ClampedArray(width * height * 3);
  if (channels === 1) {
    for (let i = 0; i < values.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = Math.fround(values[i]! * k);
  } else {
    for (let i = 0; i < values.length; i++) out[i] = Math.fround(values[i]! * k);
  }
  return { data: new Uint8Array(out.buffer), width, height };
}

/** The square centreCropResize cuts: its side and top-left corner in the image's pixels. */
export function centreSquareOf(width: number, height: number, cropFraction: number): { side: number; left: number; top: number } {
  const side = Math.max(1, Math.round(Math.min(width, height) * cropFraction));
  return { side, left: Math.floor((width - side) / 2), top: Math.floor((height - side) / 2) };
}

/**
 * The centred square (side = cropFraction x shorter side) of an RGB image, resized to size x size:
 * how training, the swap and the benchmarks all cut a model input out of an aligned crop.
 */
export async function centreCropResize(rgb: Uint8Array, width: number, height: number, size: number, cropFraction: number): Promise<Uint8Array> {
  const { side, left, top } = centreSquareOf(width, height, cropFraction);
  const out = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .extract({ left, top, width: side, height: side })
    .resize(size, size, { kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Points of a source image (e.g. a crop's landmarks) in the pixels of its centre crop: the centred
 * square centreCropResize cuts (the same arithmetic as centreCropResize), scaled to `size`.
 */
export function toFacePixels(points: ReadonlyArray<readonly [number, number]>, source: { width: number; height: number }, size: number, cropFraction: number): [number, number][] {
  const { side, left, top } = centreSquareOf(source.width, source.height, cropFraction);
  const k = size / side;
  return points.map(([x, y]): [number, number] => [(x - left) * k, (y - top) * k]);
}

export interface EncodeOptions {
  /** JPEG quality, 1 to 100. */
  quality?: number;
  /** Scale down (never up) to at most this width, keeping the aspect ratio. */
  maxWidth?: number;
}

/** Encode RGB pixels as PNG (default) or JPEG. */
export async function encodeImage(img: RgbImage, format: 'png' | 'jpeg' = 'png', { quality = 92, maxWidth }: EncodeOptions = {}): Promise<Buffer> {
  let s = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  });
  if (maxWidth && img.width > maxWidth) s = s.resize({ width: maxWidth });
  // zlib level 3, not sharp's 6: on 256 px face crops 3.8 against 5.3 ms per crop, for files 0.2%
  // larger (154.3 against 154.0 KB); the pixels are the same either way.
  return format === 'png' ? s.png({ compressionLevel: 3 }).toBuffer() : s.jpeg({ quality }).toBuffer();
}

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').map((s) => s.trim()).filter(Boolean).join('; ').slice(0, 200);
}
