// The rig's parameters: what a render varies, their neutral values, and the ranges sample() draws
// from. Geometry is in the face's own units (degrees; eye distances), so the same parameters mean
// the same pose and expression on either person: that is what makes ground-truth swap pairs.

import { z } from 'zod';
import { Rng } from '../util/rng';

export const RigParamsSchema = z.object({
  /** Head roll, degrees, clockwise on screen; 0 = eyes level. */
  roll: z.number(),
  /** Head turn, degrees; + turns the nose to the viewer's right. Relative to the source photo. */
  yaw: z.number(),
  /** Head nod, degrees; + tilts the chin down. Relative to the source photo. */
  pitch: z.number(),
  /** Face size relative to the neutral framing. */
  scale: z.number(),
  /** Frame shift as a fraction of the output width and height. */
  shiftX: z.number(),
  shiftY: z.number(),
  /** 0 closed (as in the source) to 1 wide open (jaw dropped by about 0.45 eye distances). */
  mouthOpen: z.number(),
  /** -1 mouth corners down, 0 as in the source, 1 broad smile. */
  smile: z.number(),
  /** 0 open (as in the source) to 1 closed, both eyes. */
  eyeClose: z.number(),
  /** -1 brows drawn down and together, 0 as in the source, 1 raised. */
  browRaise: z.number(),
  /** Where the light comes from, degrees clockwise from above the face. */
  lightAngle: z.number(),
  /** 0 the source's light only, 1 strong side light (the far side down to about 35%). */
  lightStrength: z.number(),
  /** Overall brightness gain. */
  exposure: z.number(),
  /** -1 cool (blue) to 1 warm (orange) white balance. */
  temperature: z.number(),
  /** Gaussian blur sigma in output pixels; below 0.3 none. */
  blur: z.number(),
  /** Sensor noise, standard deviation in 8-bit levels. */
  noise: z.number(),
  /** JPEG quality, 1-100; 100 writes a lossless PNG instead. */
  jpegQuality: z.number(),
});
export type RigParams = z.infer<typeof RigParamsSchema>;


export const NEUTRAL: Readonly<RigParams> = {
  roll: 0, yaw: 0, pitch: 0, scale: 1, shiftX: 0, shiftY: 0,
  mouthOpen: 0, smile: 0, eyeClose: 0, browRaise: 0,
  lightAngle: 0, lightStrength: 0, exposure: 1, temperature: 0,
  blur: 0, noise: 0, jpegQuality: 100,
};

/** The ranges sample() draws from, [min, max], and the limits render() accepts. */
export const RANGES: Readonly<Record<keyof RigParams, readonly [number, number]>> = {
  roll: [-15, 15],
  yaw: [-15, 15],
  pitch: [-12, 12],
  scale: [0.88, 1.12],
  shiftX: [-0.05, 0.05],
  shiftY: [-0.04, 0.04],
  mouthOpen: [0, 1],
  smile: [-0.6, 1],
  eyeClose: [0, 1],
  browRaise: [-0.8, 1],
  lightAngle: [-180, 180],
  lightStrength: [0, 0.6],
  exposure: [0.8, 1.15],
  temperature: [-1, 1],
  blur: [0, 1.4],
  noise: [0, 6],
  jpegQuality: [60, 95],
};

/**
 * Parameters for one render, drawn from RANGES by a seeded stream: the same seed gives the same
 * parameters. Expressions come in mixtures seen in photos: about half the mouths stay closed, one
 * render in eight blinks, blur and strong light each in about half of them.
 */
export function sample(seed: string | number): RigParams {
  const rng = new Rng(`rig:${seed}`);
  const u = (k: keyof RigParams) => rng.uniform(RANGES[k][0], RANGES[k][1]);
  const p: RigParams = {
    roll: Math.max(-15, Math.min(15, rng.normal(0, 6))),
    yaw: u('yaw'),
    pitch: u('pitch'),
    scale: u('scale'),
    shiftX: u('shiftX'),
    shiftY: u('shiftY'),
    mouthOpen: rng.next() < 0.5 ? 0 : rng.uniform(0.15, 1),
    smile: u('smile'),
    eyeClose: rng.next() < 0.125 ? rng.uniform(0.7, 1) : rng.uniform(0, 0.25),
    browRaise: u('browRaise'),
    lightAngle: u('lightAngle'),
    lightStrength: rng.next() < 0.5 ? rng.uniform(0, 0.15) : u('lightStrength'),
    exposure: u('exposure'),
    temperature: u('temperature'),
    blur: rng.next() < 0.5 ? 0 : rng.uniform(0.3, RANGES.blur[1]),
    noise: u('noise'),
    jpegQuality: Math.round(u('jpegQuality')),
  };
  return roundParams(p);
}

/** Parameters rounded as the manifest stores them (3 decimals; quality an integer), so that the
 * manifest's numbers re-render exactly the same photo. */
export function roundParams(p: RigParams): RigParams {
  const out = { ...p };
  for (const k of Object.keys(out) as Array<keyof RigParams>) out[k] = k === 'jpegQuality' ? Math.round(out[k]) : Number(out[k].toFixed(3));
  return out;
}

/** Refuse parameters outside RANGES (widened slightly for neutral values), naming the first. */
export function checkParams(p: RigParams): void {
  for (const k of Object.keys(RANGES) as Array<keyof RigParams>) {
    const v = p[k];
    const [lo, hi] = k === 'jpegQuality' ? [1, 100] : RANGES[k];
    const min = Math.min(lo, NEUTRAL[k]), max = Math.max(hi, NEUTRAL[k]);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new RangeError(`rig parameter ${k} = ${v} is outside [${min}, ${max}]`);
  }
}

/** The same parameters without the camera's degradations: the clean ground truth of a swap. */
export function clean(p: RigParams): RigParams {
  return { ...p, blur: 0, noise: 0, jpegQuality: 100 };
}
