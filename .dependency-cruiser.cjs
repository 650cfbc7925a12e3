// The layers of lib/, bottom first. A file may import from its own layer and the layers below it,
// never from one above, and no files may import each other in a loop. `npm test` checks this
// (test/unit/layers.test.ts runs dependency-cruiser with this file); `npx depcruise lib` shows it.
//
// Every folder and root file of lib/ is placed here; a new one must be placed too (the test fails
// on a file no layer names). Where a file sits inside a folder of another layer, the longer path wins.
const LAYERS = [
  ['util', 'utilities and I/O: paths, atomic files, JSON with schemas, progress, random numbers, statistics, image and video codecs, Jupyter',
    ['lib/util/', 'lib/types/']],
  ['engine', 'TensorFlow.js backends: the choice and its calibration, the native oneDNN backend, kernels added to every backend',
    ['lib/engine/']],
  ['faces', 'faces in photos (detection, landmarks, alignment, masks, filters), triangle geometry, scraping photos',
    ['lib/faces/', 'lib/geometry/', 'lib/scrape/']],
  ['model', 'face sets as tensors with their masks and landmarks, the autoencoder, the metrics that score faces',
    ['lib/data/', 'lib/model/', 'lib/metrics/']],
  ['stages', 'training, swapping, video, and the built-in people (a face rig that renders and extracts)',
    ['lib/train/', 'lib/swap/', 'lib/video/', 'lib/samples/']],
  ['study', 'benchmarks, the latent space, and the learner\'s lab',
    ['lib/benchmark/', 'lib/latent/', 'lib/lab/']],
  ['viz', 'pictures and charts for the notebooks (display only: it trains nothing)',
    ['lib/viz/']],
  ['commands', 'the command-line tool and its reports',
    ['lib/commands/', 'lib/cli.ts']],
];

/** Within a layer, folders that must not depend on each other in this direction. */
const APART = [
  // A trained model folder's checkpoint (train/checkpoint.ts) is the one exception: swap reads it.
  ['only training imports lib/train/: swap, video and the built-in people load faces from lib/data and models from checkpoints',
    '^lib/(swap|video|samples)/', '^lib/train/', '^lib/train/checkpoint\\.ts$'],
];

const escape = (p) => '^' + p.replace(/[.]/g, '\\.') + (p.endsWith('/') ? '' : '$');
const all = LAYERS.flatMap(([, , paths], layer) => paths.map((p) => ({ p, layer })));
/** The paths of layer i, less any longer path placed in another layer. */
function pathsOf(i) {
  const own = all.filter((e) => e.layer === i).map((e) => e.p);
  const carvedOut = all.filter((e) => e.layer !== i && own.some((o) => e.p.startsWith(o) && e.p !== o)).map((e) => e.p);
  return { path: own.map(escape).join('|'), ...(carvedOut.length ? { pathNot: carvedOut.map(escape).join('|') } : {}) };
}
function above(i) {
  const paths = all.filter((e) => e.layer > i).map((e) => e.p);
  const carvedOut = all.filter((e) => e.layer <= i && paths.some((o) => e.p.startsWith(o) && e.p !== o)).map((e) => e.p);
  return { path: paths.map(escape).join('|'), ...(carvedOut.length ? { pathNot: carvedOut.map(escape).join('|') } : {}) };
}

module.exports = {
  forbidden: [
    ...LAYERS.slice(0, -1).map(([name], i) => ({
      name: `${name}-imports-a-higher-layer`,
      comment: `${name} (layer ${i + 1}) may import only from layers 1-${i + 1}`,
      severity: 'error',
      from: pathsOf(i),
      to: above(i),
    })),
    ...APART.map(([comment, from, to, except], i) => ({ name: `apart-${i + 1}`, comment, severity: 'error', from: { path: from }, to: { path: to, ...(except ? { pathNot: except } : {}) } })),
    {
      name: 'no-circular',
      comment: 'files that import each other in a loop (a type-only import, such as a kernel naming its backend\'s type, does not count)',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    includeOnly: '^lib/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
// The table itself, for the test that every file of lib/ is placed (not enumerable: dependency-cruiser
// accepts only its own keys in a configuration).
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
