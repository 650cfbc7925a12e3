// The decoder kinds, by name: a new kind is a file in this folder and a line in KINDS. Importing
// this file also registers every kind's custom layers with TensorFlow.js's deserialiser.

import { decoderKindName, validateConfig, type ModelConfig } from '../config';
import type { DecoderKind } from './decoder-kind';
import { painting } from './painting';
import { warping } from './warping';

const KINDS = new Map<string, DecoderKind>([painting, warping].map((k) => [k.name, k]));

/** Add a kind (a test's, or a plugin's); a name already taken by another kind is refused. */
export function registerDecoderKind(kind: DecoderKind): void {
  const had = KINDS.get(kind.name);
  if (had && had !== kind) throw new Error(`a decoder kind named "${kind.name}" is already registered`);
  KINDS.set(kind.name, kind);
}

export function decoderKinds(): DecoderKind[] {
  return [...KINDS.values()];
}

/** The kind a configuration's decoders are. */
export function decoderKindOf(c: ModelConfig): DecoderKind {
  const name = decoderKindName(c);
  const kind = KINDS.get(name);
  if (!kind) throw new Error(`unknown decoder kind "${name}" (have ${[...KINDS.keys()].join(', ')})`);
  return kind;
}

/** validateConfig, and the kind's own checks: throws with every reason at once. */
export function validateModelConfig(c: ModelConfig): void {
  validateConfig(c, (config) => {
    const kind = KINDS.get(decoderKindName(config));
    return kind ? kind.validate?.(config) ?? [] : [`decoder must be one of ${[...KINDS.keys()].join(', ')}, got ${decoderKindName(config)}`];
  });
}
