// Writes the project kernelspec into .jupyter/ (called by scripts/setup.sh).
import { ensureKernelSpec } from '../lib/util/jupyter';

const { file, changed } = ensureKernelSpec();
if (changed) console.error(`setup: wrote Jupyter kernel ${file}`);
