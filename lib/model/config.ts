// The autoencoder as a plain, typed configuration: everything a builder needs, nothing else.
// A config is saved with every checkpoint, so a model folder can always be rebuilt and loaded.

import { z } from 'zod';

/** config.json's shape; validateConfig then checks that the numbers make a buildable model. */
export const ModelConfigSchema = z.object({
  /** Side of the square face crop in pixels; a multiple of 2^encoderWidths.length. */
  inputSize: z.number(),
  /** Filters of each 5x5 stride-2 encoder convolution; each halves the image side. */
  encoderWidths: z.array(z.number()),
  /** Width of the dense bottleneck: the "face code" every decoder reads. */
  latentSize: z.number(),
  /** Channels of the dense layer reshaped back to a small image (side inputSize / 2^encoders). */
  bottleneckChannels: z.number(),
  /** Output channels of the one upscale that ends the (shared) encoder. */
  encoderUpscale: z.number(),
  /** Output channels of each decoder upscale; each doubles the image side. */
  decoderWidths: z.array(z.number()),
  /**
   * Residual blocks (two 3x3 convolutions and a skip) after each decoder upscale, as in
   * DeepFaceLab's decoders: more painting capacity at a small cost per step. A number for every
   * upscale alike, or one per upscale (cheapest at the small sides). 0 or absent: none, as in 2018.
   */
  decoderResBlocks: z.union([z.number(), z.array(z.number())]).optional(),
  /** Negative slope of every LeakyReLU. */
  leak: z.number(),
  /** Add a 4th output channel: a learned face mask (sigmoid), for blending a swap back. */
  mask: z.boolean(),
  /** One decoder per identity, by name ("a", "b"; more for an N-person model). */
  identities: z.array(z.string()),
  /**
   * The decoders' kind (lib/model/decoders/): 'painting' (the 2018 decoder; the default) or
   * 'warping' (each decoder moves and relights one real photo of its person).
   */
  decoder: z.string().optional(),
  /** Models saved before kinds had names: true meant the warping kind. */
  warp: z.boolean().optional(),
  /**
   * Warping decoders: keep their photo also at this many times the input size, for swaps rendered
   * at that resolution (the flow and light are smooth, so they stretch to any size; the photo's
   * detail does not). 1 or absent: the photo at the input size only.
   */
  warpDetail: z.number().optional(),
  /**
   * Warping decoders: how much of its light a swap keeps, the gain raised to this power (0: the
   * photo only moved; 1 or absent: all of it). The light is learned on the person's own faces; from
   * another person's code it also carries that person's shading, and some of who they are. Only
   * swaps read it: training and a person's own reconstructions always use the whole light.
   */
  swapLight: z.number().optional(),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** The name of the config's decoder kind; a model saved with `warp: true` has warping decoders. */
export function decoderKindName(c: ModelConfig): string {
  return c.decoder ?? (c.warp ? 'warping' : 'painting');
}

export type PresetName = 'original' | 'lite' | 'hq128' | 'tiny';

/** The 64 px model of the first public deepfake code: 82,062,470 parameters with two decoders. */
const ORIGINAL: ModelConfig = {
  inputSize: 64,
  encoderWidths: [128, 256, 512, 1024],
  latentSize: 1024,
  bottleneckChannels: 1024,
  encoderUpscale: 512,
  decoderWidths: [256, 128, 64],
  leak: 0.1,
  mask: false,
  identities: ['a', 'b'],
};

/** Every width of a config divided by `by`: the same shape, a fraction of the compute. */
export function scaleWidths(c: ModelConfig, by: number): ModelConfig {
  const d = (w: number) => Math.max(1, Math.round(w / by));
  return {
    ...c,
    encoderWidths: c.encoderWidths.map(d),
    latentSize: d(c.latentSize),
    bottleneckChannels: d(c.bottleneckChannels),
    encoderUpscale: d(c.encoderUpscale),
    decoderWidths: c.decoderWidths.map(d),
  };
}

export const PRESETS: Record<PresetName, ModelConfig> = {
  original: ORIGINAL,
  // The CPU tutorial default: 5,137,190 parameters, about 3 faces/s on wasm.
  lite: scaleWidths(ORIGINAL, 4),
  // For a GPU: 128 px faces. The bottleneck is 8x8, so the dense layers shrink to keep it near
  // the original's size (a 8x8x1024 dense would alone hold 67 M weights).
  hq128: { ...ORIGINAL, inputSize: 128, latentSize: 512, bottleneckChannels: 512 },
  // For tests and first notebook runs: seconds per step at 16-32 px.
  tiny: { ...scaleWidths(ORIGINAL, 16), inputSize: 32 },
};

export function isPresetName(s: string): s is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, s);
}

/** A copy of a preset, with overrides (e.g. another input size or a mask channel). */
export function presetConfig(name: PresetName, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const c = PRESETS[name];
  return { ...c, encoderWidths: [...c.encoderWidths], decoderWidths: [...c.decoderWidths], identities: [...c.identities], ...overrides };
}

/** Residual blocks after decoder upscale i. */
export function resBlocksAt(c: ModelConfig, i: number): number {
  const r = c.decoderResBlocks ?? 0;
  return Array.isArray(r) ? r[i] ?? 0 : r;
}

/** Side of the image the dense layer is reshaped to. */
export function bottleneckSide(c: ModelConfig): number {
  return c.inputSize / 2 ** c.encoderWidths.length;
}

/**
 * Throws with a readable reason when the shapes cannot line up; `more` adds reasons of its own (the
 * decoder kind's: decoders/registry.ts validateModelConfig).
 */
export function validateConfig(c: ModelConfig, more: (c: ModelConfig) => string[] = () => []): void {
  const problems: string[] = [];
  const side = bottleneckSide(c);
  if (!Number.isInteger(side) || side < 1)
    problems.push(`inputSize ${c.inputSize} must be a multiple of 2^${c.encoderWidths.length} (one halving per encoder layer)`);
  // The encoder's upscale plus each decoder upscale double the side back to the input size.
  else if (side * 2 ** (1 + c.decoderWidths.length) !== c.inputSize)
    problems.push(`${c.encoderWidths.length} encoder halvings need ${c.encoderWidths.length - 1} decoder upscales, got ${c.decoderWidths.length}`);
  const widths = [...c.encoderWidths, c.latentSize, c.bottleneckChannels, c.encoderUpscale, ...c.decoderWidths];
  if (widths.some((w) => !Number.isInteger(w) || w < 1)) problems.push('every width must be a positive integer');
  const res = c.decoderResBlocks ?? 0;
  const counts = Array.isArray(res) ? res : [res];
  if (counts.some((r) => !Number.isInteger(r) || r < 0 || r > 8) || (Array.isArray(res) && res.length !== c.decoderWidths.length))
    problems.push(`decoderResBlocks must be an integer from 0 to 8, or one per decoder upscale (${c.decoderWidths.length}), got ${JSON.stringify(res)}`);
  if (c.identities.length < 1 || new Set(c.identities).size !== c.identities.length || c.identities.some((n) => !/^[a-z0-9_-]+$/i.test(n)))
    problems.push('identities must be distinct names of letters, digits, - and _');
  problems.push(...more(c));
  if (problems.length) throw new Error(`invalid model config: ${problems.join('; ')}`);
}
