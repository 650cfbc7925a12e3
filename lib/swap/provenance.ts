// The provenance label every swapped image carries, so that anyone who receives the file can find
// out that it is synthetic: EXIF ImageDescription and Software, XMP (dc:description and IPTC's
// DigitalSourceType "compositeSynthetic", the term photo tools read), and for PNG also a tEXt
// "Description" chunk (which sharp cannot write, hence the few lines of PNG chunk handling).

import sharp from 'sharp';
import type { RgbImage } from '../util/image';
import { versions } from '../util/project';

export const LABEL_PREFIX = 'synthetic face swap by deepfake-lab';
const DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic';

export function provenanceLabel(): string {
  return `${LABEL_PREFIX} ${versions()['deepfake-lab']}`;
}

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function xmpPacket(label: string): string {
  return [
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">',
    `<dc:description><rdf:Alt><rdf:li xml:lang="x-default">${xmlEscape(label)}</rdf:li></rdf:Alt></dc:description>`,
    `<Iptc4xmpExt:DigitalSourceType>${DIGITAL_SOURCE_TYPE}</Iptc4xmpExt:DigitalSourceType>`,
    '</rdf:Description></rdf:RDF></x:xmpmeta>',
  ].join('');
}

// ---- PNG tEXt chunks ---------------------------------------------------------------------------

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function textChunk(keyword: string, text: string): Buffer {
  const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(body.length - 4, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** The PNG with tEXt chunks inserted right after IHDR (8-byte signature + 25-byte IHDR). */
function withPngText(png: Buffer, entries: Record<string, string>): Buffer {
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG from sharp: IHDR is not the first chunk');
  const chunks = Object.entries(entries).map(([k, v]) => textChunk(k, v));
  return Buffer.concat([png.subarray(0, 33), ...chunks, png.subarray(33)]);
}

// ---- write and read ----------------------------------------------------------------------------

/** Encode RGB pixels as PNG (lossless) or JPEG with the provenance label in the metadata. */
export async function encodeLabelled(img: RgbImage, format: 'png' | 'jpeg', label = provenanceLabel(), quality = 92): Promise<Buffer> {
  const software = `deepfake-lab ${versions()['deepfake-lab']}`;
  const s = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 3 } })
    .withExif({ IFD0: { ImageDescription: label, Software: software } })
    .withXmp(xmpPacket(label));
  if (format === 'jpeg') return s.jpeg({ quality }).toBuffer();
  return withPngText(await s.png().toBuffer(), { Description: label, Software: software });
}

export interface Provenance {
  /** The label where each kind of metadata holds it; null where absent. */
  exif: string | null;
  xmp: string | null;
  /** PNG tEXt "Description" (null for JPEG). */
  pngText: string | null;
  digitalSourceType: string | null;
}

/** Read the provenance label back from an encoded image. */
export async function readProvenance(bytes: Buffer): Promise<Provenance> {
  const meta = await sharp(bytes).metadata();
  const find = (s: string | undefined) => s?.match(new RegExp(`${LABEL_PREFIX}[^\\0<]*`))?.[0] ?? null;
  const xmp = meta.xmp?.toString('utf8');
  return {
    exif: find(meta.exif?.toString('latin1')),
    xmp: find(xmp),
    pngText: meta.comments?.find((c) => c.keyword === 'Description')?.text ?? null,
    digitalSourceType: xmp?.match(/<Iptc4xmpExt:DigitalSourceType>([^<]+)</)?.[1] ?? null,
  };
}
