// Fetching one candidate and deciding whether it is a usable photo: the source's own metadata
// first (nothing downloaded for a PDF or a 40-pixel icon), then the bytes: Content-Type, size
// limit while streaming, and a real decode through lib/util/image.ts with its pixel limit on. The file
// name or URL is never trusted for the format: the bytes are sniffed.

import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import { tryDecodeImage, type DecodedImage, type RejectReason } from '../util/image';
import { FetchFailed, type FetchFailReason, type HttpClient } from './http';
import { perceptualHash } from '../util/phash';
import type { Candidate } from './provider';
import { checkHttpUrl } from './url-safety';

export type SkipReason = RejectReason | FetchFailReason | 'duplicate' | 'near duplicate';

export interface CheckLimits {
  maxBytes: number;
  minSide: number;
  maxPixels: number;
}

export type Checked =
  | { ok: true; bytes: Buffer; image: DecodedImage; sha256: string; phash: string; finalUrl: string | null }
  | { ok: false; reason: SkipReason; detail: string; retryable: boolean };

const PHOTO_MIMES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif']);
// Servers often label any file as a generic binary; the bytes decide then.
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream', 'application/binary']);
const ACCEPT = 'image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8';

/** Why a Content-Type rules the body out before reading it, or null. */
export function refuseContentType(contentType: string | null): string | null {
  if (!contentType) return null;
  const mime = contentType.split(';')[0].trim().toLowerCase();
  if (mime.startsWith('image/') || GENERIC_TYPES.has(mime)) return null;
  return `served as ${mime.slice(0, 60)}, not an image`;
}

export async function fetchAndCheck(c: Candidate, http: HttpClient, limits: CheckLimits, signal?: AbortSignal): Promise<Checked> {
  const early = checkHints(c, limits);
  if (early) return early;

  let bytes: Buffer;
  let finalUrl: string | null = null;
  if (c.localPath) {
    const read = await readLocal(c.localPath, limits.maxBytes);
    if (!Buffer.isBuffer(read)) return read;
    bytes = read;
  } else {
    const checked = checkHttpUrl(c.url);
    if (checked.ok === false) return { ok: false, reason: 'unsafe url', detail: checked.detail, retryable: false };
    try {
      const r = await http.get(checked.url.href, { maxBytes: limits.maxBytes, checkType: refuseContentType, accept: ACCEPT, signal });
      bytes = r.bytes;
      if (r.url !== checked.url.href) finalUrl = r.url;
    } catch (e) {
      if (e instanceof FetchFailed) return { ok: false, reason: e.reason, detail: e.detail, retryable: e.retryable };
      throw e;
    }
  }

  const decoded = await tryDecodeImage(bytes, limits);
  if (decoded.ok === false) return { ok: false, reason: decoded.reason, detail: decoded.detail, retryable: false };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { ok: true, bytes, image: decoded.image, sha256, phash: await perceptualHash(decoded.image), finalUrl };
}

function checkHints(c: Candidate, limits: CheckLimits): Checked | null {
  const h = c.hints;
  if (!h) return null;
  const no = (reason: SkipReason, detail: string): Checked => ({ ok: false, reason, detail: `${detail} (from the source's metadata; not downloaded)`, retryable: false });
  const mime = h.mime?.toLowerCase();
  if (mime === 'image/svg+xml') return no('svg is not a photo input', mime);
  if (mime && !PHOTO_MIMES.has(mime)) return no('unsupported format', mime);
  if (h.bytes && h.bytes > limits.maxBytes) return no('file too large', `${h.bytes} bytes > ${limits.maxBytes}`);
  if (h.width && h.height) {
    if (h.width * h.height > limits.maxPixels) return no('too many pixels', `${h.width}x${h.height}`);
    if (Math.min(h.width, h.height) < limits.minSide) return no('too small', `${h.width}x${h.height}, below ${limits.minSide} px`);
  }
  return null;
}

async function readLocal(file: string, maxBytes: number): Promise<Buffer | Checked> {
  try {
    const st = await fs.stat(file);
    if (st.size > maxBytes) return { ok: false, reason: 'file too large', detail: `${st.size} bytes > ${maxBytes}`, retryable: false };
    return await fs.readFile(file);
  } catch (e) {
    return { ok: false, reason: 'unreadable', detail: (e as Error).message.split('\n')[0], retryable: false };
  }
}
