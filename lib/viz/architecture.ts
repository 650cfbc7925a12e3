// The network as a picture, drawn from a ModelConfig: the 2018 figure of the deepfake (faces of
// each person into one shared encoder, a latent code, one decoder per person), with every layer's
// name, output shape and parameter count. The layers are read off a model built from the config,
// so the picture cannot drift from what the builder makes.

import { buildAutoencoder, disposeAutoencoder } from '../model/builder';
import type { ModelConfig } from '../model/config';
import { escapeHtml, showHtml } from './display';

export interface LayerInfo {
  name: string;
  kind: string;
  /** Output shape without the batch dimension. */
  shape: number[];
  params: number;
}

export interface Architecture {
  config: ModelConfig;
  input: number[];
  encoder: LayerInfo[];
  /** The decoder's layers; every identity's decoder has the same. */
  decoder: LayerInfo[];
  /** The dense layer whose output is the face code. */
  latentLayer: string;
  params: { encoder: number; decoder: number; total: number };
}

/** Layers, shapes and parameter counts of the model `config` builds. */
export function describeArchitecture(config: ModelConfig): Architecture {
  // One decoder is enough to read: they are all alike.
  const ae = buildAutoencoder({ ...config, identities: [config.identities[0] ?? 'a'] });
  try {
    const layers = (m: typeof ae.encoder): LayerInfo[] =>
      m.layers
        .filter((l) => l.getClassName() !== 'InputLayer')
        .map((l) => ({ name: l.name, kind: l.getClassName(), shape: (l.outputShape as Array<number | null>).slice(1) as number[], params: l.countParams() }));
    const encoder = layers(ae.encoder);
    const decoder = layers(Object.values(ae.decoders)[0]!);
    const sum = (ls: LayerInfo[]) => ls.reduce((s, l) => s + l.params, 0);
    return {
      config,
      input: [config.inputSize, config.inputSize, 3],
      encoder,
      decoder,
      latentLayer: encoder.find((l) => l.kind === 'Dense')?.name ?? '',
      params: { encoder: sum(encoder), decoder: sum(decoder), total: sum(encoder) + sum(decoder) * config.identities.length },
    };
  } finally {
    disposeAutoencoder(ae);
  }
}

const ROW = 17, HEAD = 34, PAD = 8, GROUP_W = 340, BOX_W = 120;
const COLOURS = { encoder: '#dbeafe', decoder: ['#ffedd5', '#dcfce7', '#f3e8ff', '#fce7f3'], latent: '#fde68a', face: '#f1f5f9' };

const n = (x: number) => x.toLocaleString('en');
const shape = (s: number[]) => s.join('×');

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x}" y="${y}" ${attrs}>${escapeHtml(s)}</text>`;
}

/** A titled box listing layers; returns its SVG and height. */
function group(x: number, y: number, title: string, layers: LayerInfo[], fill: string, latent?: string): { svg: string; height: number } {
  const height = HEAD + (layers.length - 1) * ROW + 12;
  const rows = layers.map((l, i) => {
    const ry = y + HEAD + i * ROW;
    const mark = l.name === latent ? `<rect x="${x + 2}" y="${ry - 12}" width="${GROUP_W - 4}" height="${ROW}" fill="${COLOURS.latent}"/>` : '';
    return `<g class="layer" data-name="${escapeHtml(l.name)}" data-params="${l.params}">${mark}` +
      text(x + PAD, ry, l.name) + text(x + 150, ry, shape(l.shape)) + text(x + GROUP_W - PAD, ry, l.params ? n(l.params) : '–', 'text-anchor="end"') + '</g>';
  });
  return {
    height,
    svg: [
      `<rect x="${x}" y="${y}" width="${GROUP_W}" height="${height}" rx="8" fill="${fill}" stroke="#64748b"/>`,
      text(x + PAD, y + 18, title, 'font-weight="bold" font-size="13"'),
      ...rows,
    ].join('\n'),
  };
}

function box(x: number, y: number, lines: string[], fill: string): string {
  return `<rect x="${x}" y="${y}" width="${BOX_W}" height="${12 + lines.length * 15}" rx="6" fill="${fill}" stroke="#64748b"/>` +
    lines.map((l, i) => text(x + BOX_W / 2, y + 19 + i * 15, l, `text-anchor="middle"${i === 0 ? ' font-weight="bold"' : ''}`)).join('');
}

function arrow(x1: number, y1: number, x2: number, y2: number): string {
  return `<path d="M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}" fill="none" stroke="#334155" stroke-width="1.5" marker-end="url(#arrow)"/>`;
}

/**
 * The architecture as an SVG: each person's face into the shared encoder (the face-code layer
 * highlighted), the code into every person's decoder, each decoder painting its person's face.
 */
export function architectureSvg(source: ModelConfig | Architecture): string {
  const a = 'encoder' in source ? source : describeArchitecture(source);
  const ids = a.config.identities;
  const enc = group(BOX_W + 60, 10, `Encoder (shared) · ${n(a.params.encoder)} parameters`, a.encoder, COLOURS.encoder, a.latentLayer);
  const decX = BOX_W + 60 + GROUP_W + 70;
  const decs: string[] = [];
  const outs: string[] = [];
  let y = 10;
  const decMid: number[] = [];
  ids.forEach((id, i) => {
    const g = group(decX, y, `Decoder ${id.toUpperCase()} · ${n(a.params.decoder)} parameters`, a.decoder, COLOURS.decoder[i % COLOURS.decoder.length]!);
    decs.push(g.svg);
    const mid = y + g.height / 2;
    decMid.push(mid);
    outs.push(box(decX + GROUP_W + 50, mid - 20, [`${id.toUpperCase()}'s face`, `painted, ${shape([a.config.inputSize, a.config.inputSize, a.config.mask ? 4 : 3])}`], COLOURS.face));
    outs.push(arrow(decX + GROUP_W, mid, decX + GROUP_W + 50, mid));
    y += g.height + 16;
  });
  const height = Math.max(enc.height + 20, y) + 46;
  const encMid = 10 + enc.height / 2;
  const ins = ids.map((id, i) => {
    const iy = encMid - (ids.length * 50) / 2 + i * 50;
    return box(10, iy, [`a face of ${id.toUpperCase()}`, shape(a.input)], COLOURS.face) + arrow(10 + BOX_W, iy + 20, BOX_W + 60, encMid);
  });
  const codeShape = shape(a.encoder.find((l) => l.name === a.latentLayer)?.shape ?? []);
  const toDecoders = decMid.map((m) => arrow(BOX_W + 60 + GROUP_W, encMid, decX, m));
  const width = decX + GROUP_W + 50 + BOX_W + 10;
  const caption = ids.length > 1
    ? `Training: each person's faces go through the shared encoder and their own decoder. The swap: a face of ${ids[0]!.toUpperCase()} through the encoder and decoder ${ids[1]!.toUpperCase()}.`
    : 'One person: the encoder squeezes the face into a code, the decoder paints it back.';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="deepfake-lab-architecture" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" fill="#0f172a">`,
    `<title>${escapeHtml(`Autoencoder: ${n(a.params.total)} parameters`)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#334155"/></marker></defs>',
    ...ins,
    enc.svg,
    ...toDecoders,
    ...decs,
    ...outs,
    text(BOX_W + 60, height - 30, `Highlighted: ${a.latentLayer}, the face code (${codeShape} numbers for a face of ${n(a.input[0]! * a.input[1]! * 3)}). Total ${n(a.params.total)} parameters.`),
    text(BOX_W + 60, height - 12, caption),
    '</svg>',
  ].join('\n');
}

/** Draw the architecture of `config` in the notebook. */
export function showArchitecture(config: ModelConfig): boolean {
  return showHtml(architectureSvg(config));
}
