// The layers of the warping decoder (warping.ts): a decoder that moves a face instead of painting it from nothing.
//
// The classic decoder paints every pixel of the face from the code. With minutes of training on a
// CPU it settles on a soft average: the fine detail (eyelids, brows, lip lines) that tells one
// person from another is the last thing it learns. Here each decoder holds a *face texture* of its
// own person (one of their real training faces, kept as it is, so the detail is there from the
// first step), and its upsampling path says, per output pixel:
//   - where to read the texture from (texture coordinates: pose and expression are mostly motion),
//   - how much brighter or darker each colour is there (a gain: light, shading, colour cast),
// output = gain * texture(coordinates)
// Nothing is painted: a painting path, given the chance, learns the same soft face as the classic
// decoder and blends it in (measured in docs/recipes.md), because under L1 and SSIM a soft guess is safer
// than a sharp one slightly off. So this decoder cannot invent what its photo lacks (teeth behind
// lips that are closed there); it can only move, stretch and relight what is there.
// Where to read from is learned with help: every training face's landmarks, matched to the
// texture's, say where each of its pixels lies in the texture (lib/model/decoders/texture-coords.ts), and
// the loss pulls the decoder's coordinates towards those. Without that pull the coordinates
// barely move in minutes and the decoder falls back on its soft painting (measured: see docs/recipes.md).
// The idea is the one behind X2Face and Deforming Autoencoders (2018). The shared encoder still
// turns any face into a code of pose, expression and light, and a person's decoder still turns a
// code into that person's face; only what the decoder outputs changed. The swap is unchanged too:
// encode A, decode with B's decoder, and B's own face is moved into A's pose.

import * as tf from '@tensorflow/tfjs';

/** Largest texture shift, as a fraction of the image side (the flow is tanh-squashed to it). */
export const MAX_FLOW = 0.25;
/** Largest gain: exp(+-GAIN_RANGE) (about x0.37 to x2.7 at 1). */
export const GAIN_RANGE = 1;

/** The four texels around each sampling point and the point's fractions between them. */
function corners(texture: tf.Tensor3D, x: tf.Tensor3D, y: tf.Tensor3D) {
  const t = texture.shape[0];
  const [n, h, w] = x.shape;
  const flat = texture.reshape([t * t, 3]);
  const cx = x.clipByValue(0, t - 1), cy = y.clipByValue(0, t - 1);
  const x0 = cx.floor(), y0 = cy.floor();
  // Fractions repeated over the 3 colours: the native backend multiplies same-shaped tensors in
  // compiled code but broadcasts a last axis of 1 in JavaScript.
  const three = (v: tf.Tensor) => v.expandDims(-1).tile([1, 1, 1, 3]) as tf.Tensor4D;
  const fx = three(cx.sub(x0)), fy = three(cy.sub(y0));
  const x1 = x0.add(1).minimum(t - 1), y1 = y0.add(1).minimum(t - 1);
  const index = (yy: tf.Tensor, xx: tf.Tensor) => yy.mul(t).add(xx).toInt().reshape([-1, 1]) as tf.Tensor2D;
  const idx = [index(y0, x0), index(y0, x1), index(y1, x0), index(y1, x1)];
  const texels = idx.map((i) => tf.gather(flat, i.reshape([-1])).reshape([n, h, w, 3]) as tf.Tensor4D);
  return { texels, fx, fy };
}

/**
 * Bilinear sampling: texture [t, t, 3] read at pixel coordinates x, y ([n, s, s] each, in the
 * texture's pixels), clamped to its edge; [n, s, s, 3]. No gradient passes through it: the texture
 * is a photo kept as it is, and the coordinates learn only from the landmarks' pull (WarpFace.call
 * says why). tfjs's own gradient would also ask for one of the integer gather indices, and fail.
 */
export function sampleBilinear(texture: tf.Tensor3D, x: tf.Tensor3D, y: tf.Tensor3D): tf.Tensor4D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [tex, xs, ys, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([tex, xs, ys]);
    const value = tf.tidy(() => {
      const { texels: [a, b, c, d], fx, fy } = corners(tex, xs, ys);
      const top = a.add(b.sub(a).mul(fx)), bottom = c.add(d.sub(c).mul(fx));
      return top.add(bottom.sub(top).mul(fy));
    });
    return { value, gradFunc: (_: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => saved.map((t) => tf.zerosLike(t)) };
  });
  return op(texture, x, y) as tf.Tensor4D;
}

/**
 * A texture [t, t, 3] read at coordinates [n, s, s, 2] (x, y in its pixels): sampleBilinear on the
 * two channels; [n, s, s, 3].
 */
export function readTexture(texture: tf.Tensor3D, coords: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const at = (k: number) => coords.slice([0, 0, 0, k], [-1, -1, -1, 1]).squeeze([3]) as tf.Tensor3D;
    return sampleBilinear(texture, at(0), at(1));
  });
}

/**
 * A raw gain -> the light it puts on each pixel and colour: from 1/e to e (GAIN_RANGE 1), 1 at zero;
 * `strength` < 1 keeps that power of it (a swap's, ModelConfig.swapLight).
 */
function lightOf(raw: tf.Tensor4D, strength = 1): tf.Tensor4D {
  return raw.tanh().mul(GAIN_RANGE * strength).exp() as tf.Tensor4D;
}

/** x and y of every output pixel's centre in texture pixels, [n, s, s, 2]. */
function pixelGrid(n: number, s: number, t: number): tf.Tensor4D {
  const g = new Float32Array(n * s * s * 2);
  for (let k = 0, i = 0; k < n; k++)
    for (let r = 0; r < s; r++)
      for (let c = 0; c < s; c++, i += 2) (g[i] = ((c + 0.5) * t) / s - 0.5), (g[i + 1] = ((r + 0.5) * t) / s - 0.5);
  return tf.tensor4d(g, [n, s, s, 2]);
}

/** Flow [n, s, s, 2] (raw) -> where each output pixel reads the texture, [n, s, s, 2] (x, y in texture pixels). */
export class WarpCoords extends tf.layers.Layer {
  static readonly className = 'WarpCoords';
  readonly textureSize: number;

  constructor(args: { textureSize: number; name?: string }) {
    super({ name: args.name });
    this.textureSize = args.textureSize;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = inputShape as tf.Shape;
    return [n, h, w, 2];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const flow = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => {
      const [n, s] = flow.shape;
      const t = this.textureSize;
      // The pixel's own place, shifted by at most MAX_FLOW of the side.
      return pixelGrid(n, s, t).add(flow.tanh().mul(MAX_FLOW * t));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), textureSize: this.textureSize };
  }
}

/** The 68 landmarks of a face. */
export const LANDMARKS = 68;

/** [coords, gain] -> the face: the texture read at coords and relit, [n, s, s, 3] (gain [n, s, s, 3], raw). */
export class WarpFace extends tf.layers.Layer {
  static readonly className = 'WarpFace';
  readonly textureSize: number;
  /** The photo is also kept at detail x textureSize, for swaps rendered that large (renderDetailed). */
  readonly detail: number;
  private textureVar: tf.LayerVariable | null = null;
  private detailVar: tf.LayerVariable | null = null;
  private landmarks: tf.LayerVariable | null = null;

  constructor(args: { textureSize: number; detail?: number; name?: string }) {
    super({ name: args.name });
    this.textureSize = args.textureSize;
    this.detail = args.detail ?? 1;
  }

  override build(): void {
    const t = this.textureSize;
    // Not trained: the texture stays a real photo. Mid-grey until setTexture puts a face there (a
    // new model does that before its first step); its landmarks (texture pixels) travel with it.
    this.textureVar = this.addWeight('texture', [t, t, 3], 'float32', tf.initializers.constant({ value: 0.5 }), undefined, false);
    if (this.detail > 1) this.detailVar = this.addWeight('detail', [t * this.detail, t * this.detail, 3], 'float32', tf.initializers.constant({ value: 0.5 }), undefined, false);
    this.landmarks = this.addWeight('landmarks', [LANDMARKS, 2], 'float32', tf.initializers.zeros(), undefined, false);
    this.built = true;
  }

  /**
   * Put a face [t, t, 3] in [0, 1] and its landmarks (texture pixels) into the layer, and with
   * detail > 1 the same face at detail x t (training never reads that one; the swap does).
   */
  setTexture(image: tf.Tensor3D, landmarks: ReadonlyArray<readonly [number, number]>, detailed?: tf.Tensor3D): void {
    if (!this.textureVar || !this.landmarks) throw new Error('WarpFace: setTexture before the layer is built');
    if (landmarks.length !== LANDMARKS) throw new Error(`WarpFace: ${landmarks.length} landmarks, expected ${LANDMARKS}`);
    if (this.detailVar && !detailed) throw new Error(`WarpFace: the photo at ${this.detail}x is missing`);
    this.textureVar.write(image);
    if (this.detailVar) this.detailVar.write(detailed!);
    tf.tidy(() => {
      this.landmarks!.write(tf.tensor2d(landmarks.flat(), [LANDMARKS, 2]));
    });
  }

  /** The texture [t, t, 3] (the layer's own tensor: do not dispose it). */
  texture(): tf.Tensor3D {
    return this.textureVar!.read() as tf.Tensor3D;
  }

  /** The photo at detail x t (the texture itself when detail is 1; the layer's own tensor). */
  detailTexture(): tf.Tensor3D {
    return (this.detailVar ?? this.textureVar)!.read() as tf.Tensor3D;
  }

  /** The texture's landmarks, in texture pixels. */
  textureLandmarks(): Array<[number, number]> {
    const v = this.landmarks!.read().dataSync();
    return Array.from({ length: LANDMARKS }, (_, i) => [v[2 * i], v[2 * i + 1]] as [number, number]);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = (inputShape as tf.Shape[])[0];
    return [n, h, w, 3];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [coords, gainRaw] = inputs as [tf.Tensor4D, tf.Tensor4D];
    return tf.tidy(() => {
      // The image's error does not move the coordinates: only the landmarks' pull does. Left to
      // the image loss they learned a jittered field that smears the texture like frosted glass,
      // the closest a moved photo can come to the soft average L1 and SSIM prefer.
      // Nor does it change the photo (it is no weight to train): the sampler passes no gradient.
      const moved = readTexture(this.texture(), coords);
      return moved.mul(lightOf(gainRaw)).clipByValue(0, 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), textureSize: this.textureSize, detail: this.detail };
  }
}

tf.serialization.registerClass(WarpCoords);
tf.serialization.registerClass(WarpFace);

/** A decoder's WarpFace layer, or null for a painting decoder. */
export function warpLayer(decoder: tf.LayersModel): WarpFace | null {
  return decoder.layers.find((l): l is WarpFace => l instanceof WarpFace) ?? null;
}

const views = new WeakMap<tf.LayersModel, tf.LayersModel>();

/**
 * The same decoder with a second output, its texture coordinates [n, s, s, 2], for the loss that
 * pulls them towards the landmarks' (shares every weight; built once per decoder).
 */
export function withCoordinates(decoder: tf.LayersModel): tf.LayersModel {
  let view = views.get(decoder);
  if (!view) {
    const coords = decoder.layers.find((l) => l instanceof WarpCoords);
    if (!coords) throw new Error(`${decoder.name} is not a warping decoder`);
    view = tf.model({ inputs: decoder.inputs, outputs: [decoder.outputs[0], coords.output as tf.SymbolicTensor] });
    views.set(decoder, view);
  }
  return view;
}

/**
 * The faces of a set from the nearest (mean absolute difference) to the set's mean face to the
 * farthest: the first have a typical pose, expression and light, and a real photo's sharpness.
 * faces: s*s*3 bytes each; returns their indices.
 */
export function byTypicality(faces: Uint8Array[]): number[] {
  if (faces.length === 0) throw new Error('no faces to choose a texture from');
  const len = faces[0].length;
  const mean = new Float64Array(len);
  for (const f of faces) for (let i = 0; i < len; i++) mean[i] += f[i];
  for (let i = 0; i < len; i++) mean[i] /= faces.length;
  const err = faces.map((f) => {
    let e = 0;
    for (let i = 0; i < len; i++) e += Math.abs(f[i] - mean[i]);
    return e;
  });
  return faces.map((_, k) => k).sort((a, b) => err[a] - err[b] || a - b);
}

/** The face of a set nearest to the set's mean face (byTypicality's first). */
export function mostTypicalFace(faces: Uint8Array[]): number {
  return byTypicality(faces)[0];
}

/** One person's faces as a new warping model starts from: pixels, and landmarks (model pixels) where known. */
export interface TextureSource {
  pixels: Uint8Array[];
  landmarks: Array<ReadonlyArray<readonly [number, number]> | null>;
}

/** The faces with landmarks (those a texture can be), most typical first (byTypicality); indices into the set. */
export function textureCandidates(set: TextureSource): number[] {
  const usable = set.pixels.map((_, i) => i).filter((i) => set.landmarks[i]);
  if (usable.length === 0) throw new Error('no faces with landmarks');
  return byTypicality(usable.map((i) => set.pixels[i])).map((k) => usable[k]);
}

/** The face a warping decoder of this person starts from, without a recognition net: the most typical of those with landmarks. */
export function chooseTexture(set: TextureSource): number {
  return textureCandidates(set)[0];
}

/** Picks a person's texture from their faces (an index into set.pixels); chooseTexture when none is given. */
export type TextureChooser = (id: string, set: TextureSource) => Promise<number>;

/**
 * Start every warping decoder's texture from one of its person's training faces that has landmarks
 * (a new model): `choose`'s pick, by default the most typical. `detailed(id, index, side)` gives that
 * face at `side` pixels, for decoders that keep their photo larger (ModelConfig.warpDetail). Returns
 * the chosen face's index per identity.
 */
export async function startTextures(
  decoders: Record<string, tf.LayersModel>,
  faces: Record<string, TextureSource>,
  size: number,
  detailed?: (id: string, index: number, side: number) => Promise<Uint8Array>,
  choose: TextureChooser = async (_, set) => chooseTexture(set),
): Promise<Record<string, number>> {
  const chosen: Record<string, number> = {};
  for (const [id, decoder] of Object.entries(decoders)) {
    const layer = warpLayer(decoder);
    if (!layer) continue;
    const set = faces[id];
    if (!set || !set.landmarks.some((l) => l))
      throw new Error(`no faces of "${id}" with landmarks to start a warping decoder's photo from (extract writes them; face-api found none here): train with a painting recipe, e.g. --recipe scheduled`);
    const k = await choose(id, set);
    if (!set.landmarks[k]) throw new Error(`face ${k} of "${id}" has no landmarks: it cannot be the texture`);
    const t = layer.textureSize, big = t * layer.detail;
    if (layer.detail > 1 && !detailed) throw new Error(`decoder ${id} keeps its photo at ${layer.detail}x: give startTextures the larger face`);
    const large = layer.detail > 1 ? await detailed!(id, k, big) : null;
    tf.tidy(() => {
      const image = (pixels: Uint8Array, side: number) => tf.tensor3d(pixels, [side, side, 3], 'int32').toFloat().div(255) as tf.Tensor3D;
      const face = image(set.pixels[k], size);
      const texture = t === size ? face : (tf.image.resizeBilinear(face, [t, t], false, true) as tf.Tensor3D);
      layer.setTexture(texture, set.landmarks[k]!.map(([x, y]) => [(x * t) / size, (y * t) / size] as [number, number]), large ? image(large, big) : undefined);
    });
    chosen[id] = k;
  }
  return chosen;
}

/** What a warping decoder does with codes [n, ...]: its texture, moved; the light it puts on it; the result. */
export interface WarpStages {
  /** The texture read at the decoder's coordinates [n, s, s, 3]. */
  moved: tf.Tensor4D;
  /** The gain per pixel and colour [n, s, s, 3] (1: unchanged). */
  light: tf.Tensor4D;
  /** The decoder's output [n, s, s, 3] (with the light at `lightStrength`). */
  face: tf.Tensor4D;
  /** The decoder's mask channel [n, s, s, 1], when it paints one (ModelConfig.mask). */
  mask?: tf.Tensor4D;
}

/** The decoder's layer `name`'s output, or null when it has none. */
function outputOf(decoder: tf.LayersModel, name: string): tf.SymbolicTensor | null {
  return decoder.layers.some((l) => l.name === name) ? (decoder.getLayer(name).output as tf.SymbolicTensor) : null;
}

/**
 * A warping decoder's stages for `codes` (the caller disposes them); see viz/training.ts's warpAnatomy.
 * `lightStrength` keeps that power of the light (1: the decoder's own output; a swap's is
 * ModelConfig.swapLight, see swapDecode in builder.ts).
 */
export function warpStages(decoder: tf.LayersModel, codes: tf.Tensor4D, lightStrength = 1): WarpStages {
  const layer = warpLayer(decoder);
  if (!layer) throw new Error(`${decoder.name} is not a warping decoder`);
  return tf.tidy(() => {
    const mask = outputOf(decoder, 'dec_mask');
    const outputs = [decoder.getLayer('dec_coords').output, decoder.getLayer('dec_gain_up').output, ...(mask ? [mask] : [])] as tf.SymbolicTensor[];
    const [coords, gain, m] = tf.model({ inputs: decoder.inputs, outputs }).predict(codes) as tf.Tensor4D[];
    const moved = readTexture(layer.texture(), coords), light = lightOf(gain, lightStrength);
    // As WarpFace.call draws it.
    return { moved, light, face: moved.mul(light).clipByValue(0, 1) as tf.Tensor4D, ...(m ? { mask: m } : {}) };
  });
}

/**
 * A warping decoder's faces for `codes`, rendered at its photo's detail size [n, s*detail, s*detail, 3]:
 * the same flow and light as its own output, stretched (both are smooth), reading the larger photo;
 * the light at `lightStrength` as in warpStages. At detail 1 this is the decoder's output.
 */
export function renderDetailed(decoder: tf.LayersModel, codes: tf.Tensor4D, lightStrength = 1): tf.Tensor4D {
  const layer = warpLayer(decoder);
  if (!layer) throw new Error(`${decoder.name} is not a warping decoder`);
  return tf.tidy(() => {
    const outputs = [decoder.getLayer('dec_coords').output, decoder.getLayer('dec_gain').output] as tf.SymbolicTensor[];
    const [coords, gainRaw] = tf.model({ inputs: decoder.inputs, outputs }).predict(codes) as tf.Tensor4D[];
    const [n, s] = coords.shape;
    const k = layer.detail, t = layer.textureSize, big = s * k;
    // The flow (in texture pixels) stretched to the larger grid and scaled into its pixels.
    const flow = coords.sub(pixelGrid(n, s, t)) as tf.Tensor4D;
    const at = tf.image.resizeBilinear(flow, [big, big], false, true).mul(k).add(pixelGrid(n, big, t * k)) as tf.Tensor4D;
    const light = lightOf(tf.image.resizeBilinear(gainRaw, [big, big], false, true), lightStrength);
    return readTexture(layer.detailTexture(), at).mul(light).clipByValue(0, 1) as tf.Tensor4D;
  });
}
