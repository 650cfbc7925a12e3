// The CPU features the addon was compiled for. The set-up builds with -march=native: the OpenMP
// loops then use every vector extension of the build machine (oneDNN dispatches at run time on
// its own), and a build copied to a CPU without them would die with SIGILL at the first such
// instruction. So the build records what it needs beside the .node file, and loading refuses,
// with one line, on a CPU that lacks any of it (lib/engine/backend.ts then picks wasm). What this CPU has
// comes from CPUID, through a probe addon built for the baseline x86-64 (native/src/cpu-probe.cc);
// /proc/cpuinfo is only the fallback, because it is the kernel's list and can omit what the CPU has.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { readJsonFile } from '../../util/jsonfile';
import { PROJECT_ROOT } from '../../util/project';

/** Compiler macros for instruction-set extensions, and the flag /proc/cpuinfo shows for each. */
const MACRO_FLAG: Record<string, string> = {
  __SSE3__: 'pni', __SSSE3__: 'ssse3', __SSE4_1__: 'sse4_1', __SSE4_2__: 'sse4_2', __POPCNT__: 'popcnt',
  __AVX__: 'avx', __AVX2__: 'avx2', __FMA__: 'fma', __F16C__: 'f16c', __BMI__: 'bmi1', __BMI2__: 'bmi2',
  __LZCNT__: 'abm', __MOVBE__: 'movbe', __ADX__: 'adx', __AES__: 'aes', __PCLMUL__: 'pclmulqdq', __SHA__: 'sha_ni',
  __RDRND__: 'rdrand', __RDSEED__: 'rdseed', __GFNI__: 'gfni', __VAES__: 'vaes', __VPCLMULQDQ__: 'vpclmulqdq',
  __AVX512F__: 'avx512f', __AVX512CD__: 'avx512cd', __AVX512DQ__: 'avx512dq', __AVX512BW__: 'avx512bw',
  __AVX512VL__: 'avx512vl', __AVX512IFMA__: 'avx512ifma', __AVX512VBMI__: 'avx512vbmi', __AVX512VBMI2__: 'avx512_vbmi2',
  __AVX512VNNI__: 'avx512_vnni', __AVX512BITALG__: 'avx512_bitalg', __AVX512VPOPCNTDQ__: 'avx512_vpopcntdq',
  __AVX512BF16__: 'avx512_bf16', __AVX512FP16__: 'avx512_fp16', __AVXVNNI__: 'avx_vnni',
  __AMX_TILE__: 'amx_tile', __AMX_BF16__: 'amx_bf16', __AMX_INT8__: 'amx_int8',
};

export const CpuStampSchema = z.object({
  /** The -march the addon was compiled with. */
  march: z.string(),
  /** /proc/cpuinfo flags the compiled code may use. */
  requires: z.array(z.string()),
});
export type CpuStamp = z.infer<typeof CpuStampSchema>;

/** The sidecar file beside the addon: deepfake_native.node -> deepfake_native.cpu.json. */
export function cpuStampPath(addonFile: string): string {
  return addonFile.replace(/\.node$/, '') + '.cpu.json';
}

/** The features a compiler's predefined macros (`g++ -march=native -dM -E -`) enable. */
export function featuresFromMacros(macros: string): string[] {
  const out = new Set<string>();
  for (const m of macros.matchAll(/#define (__\w+__) /g)) if (MACRO_FLAG[m[1]]) out.add(MACRO_FLAG[m[1]]);
  return [...out].sort();
}

/** This CPU's feature flags, or null where /proc/cpuinfo does not list them (not Linux x86). */
export function cpuFlags(cpuinfo = '/proc/cpuinfo'): Set<string> | null {
  let text: string;
  try {
    text = fs.readFileSync(cpuinfo, 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => /^flags\s*:/.test(l));
  return line ? new Set(line.replace(/^flags\s*:/, '').trim().split(/\s+/)) : null;
}

/** The probe's file: beside the addon, else in the set-up's build folder (it does not depend on -march). */
export function cpuProbePath(addonFile: string): string | null {
  const candidates = [
    path.join(path.dirname(addonFile), 'deepfake_cpu.node'),
    path.join(PROJECT_ROOT, 'native', 'build', 'Release', 'deepfake_cpu.node'),
  ];
  return candidates.find((f) => fs.existsSync(f)) ?? null;
}

/** This CPU's features as CPUID reports them (in /proc/cpuinfo's spelling), or null without the probe. */
export function probeFlags(addonFile: string): Set<string> | null {
  const file = cpuProbePath(addonFile);
  if (!file) return null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const probe = require(file) as { features(): string[] };
    return new Set(probe.features());
  } catch {
    return null;
  }
}

/**
 * Why the addon must not be loaded on this CPU, or null when it may (or when nothing tells: no
 * stamp from an older build, or neither the probe nor /proc/cpuinfo lists features).
 */
export function cpuMismatch(addonFile: string, flags: Set<string> | null = probeFlags(addonFile) ?? cpuFlags()): string | null {
  const file = cpuStampPath(addonFile);
  if (!fs.existsSync(file) || !flags) return null;
  const stamp = readJsonFile(file, CpuStampSchema);
  const missing = stamp.requires.filter((f) => !flags.has(f));
  if (!missing.length) return null;
  return `built for CPU features this CPU lacks (${missing.join(', ')}; -march=${stamp.march}): run npm run setup to rebuild it for this machine`;
}
