// Where the project lives, and the versions of what it runs on.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { readJsonFile } from './jsonfile';

/** The one field read from a package.json. */
const PackageJsonSchema = z.object({ version: z.string() });

/** The project root: the folder holding package.json (lib/ sits right below it). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Project-local Jupyter data folder holding the kernelspec (used as JUPYTER_PATH). */
export const JUPYTER_DIR = path.join(PROJECT_ROOT, '.jupyter');
export const KERNEL_NAME = 'deepfake-lab';

function packageVersion(name: string): string | null {
  const file = path.join(PROJECT_ROOT, 'node_modules', name, 'package.json');
  // Not installed (the optional tfjs-node packages) is the usual case; a damaged one counts as that.
  if (!fs.existsSync(file)) return null;
  try {
    return readJsonFile(file, PackageJsonSchema).version;
  } catch {
    return null;
  }
}

/** Versions of this project, Node.js and the packages that matter; null when not installed. */
export function versions(): Record<string, string | null> {
  const own = readJsonFile(path.join(PROJECT_ROOT, 'package.json'), PackageJsonSchema);
  return {
    'deepfake-lab': own.version,
    node: process.versions.node,
    '@tensorflow/tfjs': packageVersion('@tensorflow/tfjs'),
    '@tensorflow/tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
    '@tensorflow/tfjs-node': packageVersion('@tensorflow/tfjs-node'),
    '@tensorflow/tfjs-node-gpu': packageVersion('@tensorflow/tfjs-node-gpu'),
    '@vladmandic/face-api': packageVersion('@vladmandic/face-api'),
    sharp: packageVersion('sharp'),
    canvas: packageVersion('canvas'),
    'plotly.js-dist': packageVersion('plotly.js-dist'),
    tslab: packageVersion('tslab'),
  };
}
