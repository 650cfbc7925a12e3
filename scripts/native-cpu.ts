// Called by scripts/setup.sh after building the addon: record the CPU features the build may use
// (lib/engine/native/cpu.ts reads them at load) beside the .node file.
import { execFileSync } from 'child_process';
import { writeFileAtomicSync } from '../lib/util/fsutil';
import { cpuStampPath, featuresFromMacros, type CpuStamp } from '../lib/engine/native/cpu';

const addon = process.argv[2];
if (!addon) throw new Error('usage: native-cpu.ts path/to/deepfake_native.node');
const march = 'native';  // as native/binding.gyp compiles
const macros = execFileSync(process.env.CXX || 'g++', [`-march=${march}`, '-dM', '-E', '-x', 'c++', '/dev/null'], { encoding: 'utf8' });
const stamp: CpuStamp = { march, requires: featuresFromMacros(macros) };
writeFileAtomicSync(cpuStampPath(addon), JSON.stringify(stamp) + '\n');
console.log(`native: the build may use ${stamp.requires.length} CPU extensions, recorded in ${cpuStampPath(addon)}`);
