// The face rig: one person's photo and landmarks, and render(person, params) -> a new photograph
// of that person with the pose, expression and light the parameters ask for, and where its 68
// landmarks truly are.
//
// Geometry: the control points (landmarks, forehead, head ring; face-frame.ts) get the
// expression and head turn in face units (deform.ts), then the camera (roll, scale, shift) puts
// them into the output frame; points on the output's border follow the camera only, so the
// background moves as a whole. A Delaunay triangulation of the destination points drives a
// piecewise-affine warp from the source photo; then the mouth is painted where it opened, and the
// light and camera effects are applied (photometric.ts).

import * as crypto from 'crypto';
import { decodeImage, type RgbImage } from '../util/image';
import type { Point } from '../faces/types';
import { controlPoints, depthPrior, faceFrame, toLocal, toPhoto, type FaceFrame } from './face-frame';
import { express, turn } from './deform';
import { IDENTITIES, photoPath, type Identity, type PersonId } from './identities';
import { paintMouth } from './mouth';
import { checkParams, type RigParams } from './params';
import { develop, relight } from './photometric';
import { piecewiseWarp } from '../geometry/piecewise-affine';
import { triangulate } from '../geometry/triangulate';

/** Output photo size, and the frame's width in eye distances (a head-and-shoulders portrait). */
export const OUTPUT = { width: 512, height: 640 } as const;
const FRAME_WIDTH_IOD = 4.8;
const PX_PER_IOD = OUTPUT.width / FRAME_WIDTH_IOD;
/** Points on the output border, per side (plus the corners). */
const BORDER_STEPS = 4;

export interface Person {
  identity: Identity;
  photo: RgbImage;
  frame: FaceFrame;
  /** Control points in local face units. */
  local: Point[];
  depth: number[];
}

export interface Render {
  /** The encoded photo: JPEG at params.jpegQuality, or PNG when it is 100. */
  bytes: Buffer;
  format: 'jpeg' | 'png';
  /** The same photo's pixels before encoding. */
  image: RgbImage;
  params: RigParams;
  /** Where the 68 landmarks (iBUG order) are in the output, in pixels. */
  landmarks: Point[];
}

const scratch = new Float32Array(OUTPUT.width * OUTPUT.height * 3);
const people = new Map<PersonId, Promise<Person>>();

/** A rig person from any face: its photo and its 68 landmarks (bench/pretrain-pool.ts renders other faces). */
export function personOf(identity: Identity, photo: RgbImage): Person {
  const frame = faceFrame(identity.landmarks);
  return { identity, photo, frame, local: controlPoints(identity.landmarks.map((q) => toLocal(frame, q))), depth: depthPrior() };
}

/** A built-in person, with the photo decoded once per process. */
export function loadPerson(id: PersonId): Promise<Person> {
  let p = people.get(id);
  if (!p) {
    p = (async () => {
      const identity = IDENTITIES[id];
      return personOf(identity, await decodeImage(photoPath(identity)));
    })();
    people.set(id, p);
    p.catch(() => people.delete(id));
  }
  return p;
}

type Affine = [number, number, number, number, number, number];

/** The camera: posed local face units -> output pixels, and back. */
function camera(person: Person, p: RigParams): { toOut: (u: Point) => Point; toLocal: Affine; pxPerUnit: number } {
  const k = PX_PER_IOD * p.scale;
  const r = (p.roll * Math.PI) / 180;
  const c = Math.cos(r) * k, s = Math.sin(r) * k;
  const [ox, oy] = person.identity.frameOffset;
  const ex = OUTPUT.width / 2 - PX_PER_IOD * ox + p.shiftX * OUTPUT.width;
  const ey = OUTPUT.height / 2 - PX_PER_IOD * oy + p.shiftY * OUTPUT.height;
  // Inverse of [c -s; s c] is [c s; -s c] / k^2.
  const k2 = k * k;
  const toLocal: Affine = [c / k2, s / k2, -(c * ex + s * ey) / k2, -s / k2, c / k2, (s * ex - c * ey) / k2];
  return { toOut: ([u, v]) => [ex + c * u - s * v, ey + s * u + c * v], toLocal, pxPerUnit: k };
}

function borderPoints(): Point[] {
  const { width: w, height: h } = OUTPUT;
  const pts: Point[] = [];
  for (let i = 0; i < BORDER_STEPS; i++) {
    const t = i / BORDER_STEPS;
    pts.push([t * w, 0], [w, t * h], [w - t * w, h], [0, h - t * h]);
  }
  return pts;
}

/** Where the control points go: destination (output) and source (photo) positions, and the posed local points. */
export function rigGeometry(person: Person, p: RigParams) {
  const posed = turn(express(person.local, p), person.depth, p.yaw, p.pitch);
  const cam = camera(person, p);
  const border = borderPoints();
  const [a, b, c, d, e, f] = cam.toLocal;
  const dst = [...posed.map(cam.toOut), ...border];
  const src = [...person.local.map((u) => toPhoto(person.frame, u)), ...border.map(([x, y]) => toPhoto(person.frame, [a * x + b * y + c, d * x + e * y + f]))];
  return { posed, dst, src, cam };
}

/** The true landmarks of a render with these parameters, without drawing it. */
export function renderLandmarks(person: Person, p: RigParams): Point[] {
  return rigGeometry(person, p).dst.slice(0, 68);
}

/** Mean colour of the warped image around some points (skin, for the mouth's tint). */
function meanColour(img: { data: Float32Array; width: number; height: number }, pts: Point[]): [number, number, number] {
  const sum = [0, 0, 0];
  let n = 0;
  for (const [x, y] of pts) {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const px = Math.round(x) + dx, py = Math.round(y) + dy;
        if (px < 0 || py < 0 || px >= img.width || py >= img.height) continue;
        const o = (py * img.width + px) * 3;
        sum[0] += img.data[o]; sum[1] += img.data[o + 1]; sum[2] += img.data[o + 2];
        n++;
      }
    }
  }
  return n ? [sum[0] / n, sum[1] / n, sum[2] / n] : [180, 140, 120];
}

const mid = (a: Point, b: Point): Point => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];

/** Render a person under the parameters. Deterministic: the same person and parameters give the same bytes. */
export async function render(person: Person, params: RigParams): Promise<Render> {
  checkParams(params);
  const { posed, dst, src, cam } = rigGeometry(person, params);
  // The float image lives only until relight() has rounded it, all before the first await: one
  // buffer serves every render (a fresh 4 MB array per render kept the garbage collector busy).
  const img = piecewiseWarp(person.photo, src, dst, triangulate(dst), OUTPUT.width, OUTPUT.height, scratch);
  paintMouth(img, {
    inner: posed.slice(60, 68),
    innerOut: dst.slice(60, 68),
    toLocal: cam.toLocal,
    pxPerUnit: cam.pxPerUnit,
    skin: meanColour(img, [dst[29], mid(dst[40], dst[48]), mid(dst[47], dst[54])]),
  });
  const lit = relight(img, params, { toLocal: cam.toLocal, centre: [0.3 * Math.sin((params.yaw * Math.PI) / 180), 0.55], radii: [1.2, 1.65] });
  // The noise is seeded by what is rendered, so render() needs no seed of its own.
  const noiseSeed = crypto.createHash('sha256').update(`${person.identity.id}:${JSON.stringify(params)}`).digest().readUInt32LE(0);
  const developed = await develop(lit, OUTPUT.width, OUTPUT.height, params, noiseSeed);
  return { ...developed, params, landmarks: dst.slice(0, 68) };
}
