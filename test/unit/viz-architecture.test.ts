// The architecture picture (lib/viz/architecture.ts): drawn from any ModelConfig, it names every
// layer the builder makes with that layer's parameter count, one decoder per identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/engine/backend';
import { buildAutoencoder, countParams, disposeAutoencoder } from '../../lib/model/builder';
import { presetConfig, type ModelConfig } from '../../lib/model/config';
import { architectureSvg, describeArchitecture } from '../../lib/viz/architecture';

const CONFIGS: Array<[string, ModelConfig]> = [
  ['tiny', presetConfig('tiny')],
  ['lite', presetConfig('lite')],
  // Residual blocks per upscale, a mask channel and three people: the layouts recipes make.
  ['lite with res blocks, mask, 3 people', presetConfig('lite', { decoderResBlocks: [0, 1, 2], mask: true, identities: ['a', 'b', 'c'] })],
];

for (const [label, config] of CONFIGS) {
  test(`the architecture SVG of ${label} names every layer with its parameter count`, async () => {
    await initBackend();
    const ae = buildAutoencoder(config);
    try {
      const svg = architectureSvg(config);
      const drawn = [...svg.matchAll(/<g class="layer" data-name="([^"]+)" data-params="(\d+)">/g)].map((m) => [m[1], Number(m[2])]);
      const decoder = Object.values(ae.decoders)[0]!;
      const want = [ae.encoder, ...config.identities.map(() => decoder)].flatMap((m) => m.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => [l.name, l.countParams()]));
      assert.deepEqual(drawn, want);
      const total = countParams(ae).total;
      assert.ok(svg.includes(`<title>Autoencoder: ${total.toLocaleString('en')} parameters</title>`), `total ${total}`);
      for (const id of config.identities) assert.ok(svg.includes(`Decoder ${id.toUpperCase()} · ${countParams(ae).decoders[id]!.toLocaleString('en')} parameters`), `decoder ${id}`);
      assert.ok(svg.includes(`Encoder (shared) · ${countParams(ae).encoder.toLocaleString('en')} parameters`));
      if (config.mask) assert.ok(svg.includes(`painted, ${config.inputSize}×${config.inputSize}×4`), 'the mask channel');
    } finally {
      disposeAutoencoder(ae);
    }
  });
}

test('the face code is the first dense layer, and the picture changes with the configuration', async () => {
  await initBackend();
  const a = describeArchitecture(presetConfig('lite'));
  assert.equal(a.latentLayer, 'enc_latent');
  assert.deepEqual(a.encoder.find((l) => l.name === 'enc_latent')?.shape, [presetConfig('lite').latentSize]);
  const wider = architectureSvg(presetConfig('lite', { latentSize: 512 }));
  assert.match(wider, /the face code \(512 numbers for a face of 12,288\)/);
  assert.notEqual(wider, architectureSvg(presetConfig('lite')));
});
