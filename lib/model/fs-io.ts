// A filesystem IOHandler for tf.LayersModel.save / tf.loadLayersModel. The `file://` scheme only
// exists in tfjs-node; with the wasm or cpu backend this is how a model reaches the disk.
// Layout is the one tfjs-node and the Python converter use: model.json + weights.bin.
// Each file is written atomically; a checkpoint folder as a whole is made atomic by its writer.

import { promises as fs } from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/fsutil';
import { CorruptFile, readJsonFileAsync, schemaFor } from '../util/jsonfile';
// Registers the custom layer with the deserialiser before any model is loaded.
import './pixel-shuffle';
import './decoders/registry';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/** One tensor in a weights file (also what a checkpoint's optimizer state lists). */
// schemaFor stays: the type is tfjs's (tf.io.WeightsManifestEntry), the schema only checks a file against it.
export const WeightsEntrySchema = schemaFor<tf.io.WeightsManifestEntry>()(z.object({
  name: z.string(),
  shape: z.array(z.number()),
  dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']),
  group: z.enum(['model', 'optimizer']).optional(),
  quantization: z.object({ scale: z.number().optional(), min: z.number().optional(), dtype: z.enum(['uint16', 'uint8', 'float16']) }).optional(),
}));

/**
 * model.json, loosely: the weights manifest is checked here (it says which bytes to read); the
 * topology and training config only need to be objects, tfjs's deserialiser checks them itself.
 */
const ModelJsonSchema = z.object({
  modelTopology: z.looseObject({}),
  format: z.string().nullish(),
  generatedBy: z.string().nullish(),
  convertedBy: z.string().nullish(),
  trainingConfig: z.looseObject({}).nullish(),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()), weights: z.array(WeightsEntrySchema) })),
});

/** Concatenate tfjs weight data (one buffer, or shards) into one ArrayBuffer. */
export function joinWeightData(data: tf.io.WeightData): ArrayBuffer {
  return tf.io.CompositeArrayBuffer.join(data);
}

export function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('binary model topologies are not supported');
      const weights = artifacts.weightData ? joinWeightData(artifacts.weightData) : new ArrayBuffer(0);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        trainingConfig: artifacts.trainingConfig,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      // Weights first: a model.json never names weights that are not there yet.
      await writeFileAtomic(path.join(dir, WEIGHTS_BIN), new Uint8Array(weights));
      await writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData: weights }) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const json = await readJsonFileAsync(path.join(dir, MODEL_JSON), ModelJsonSchema);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(await fs.readFile(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
      const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype), 0);
      if (weightData.byteLength !== expected)
        // CorruptFile naming the file: a checkpoint's loader falls back to the previous one on it.
        throw new CorruptFile(path.join(dir, WEIGHTS_BIN), `holds ${weightData.byteLength} bytes, model.json expects ${expected}`);
      return {
        modelTopology: json.modelTopology,
        format: json.format ?? undefined,
        generatedBy: json.generatedBy ?? undefined,
        convertedBy: json.convertedBy,
        // Checked by tfjs when the model is compiled with it (this project never saves one).
        trainingConfig: (json.trainingConfig ?? undefined) as unknown as tf.io.TrainingConfig | undefined,
        weightSpecs: specs,
        weightData,
      };
    },
  };
}

function bytesPer(dtype: string): number {
  return dtype === 'bool' || dtype === 'uint8' ? 1 : dtype === 'float16' ? 2 : 4;
}

export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSystemHandler(dir));
}

export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemHandler(dir));
}
