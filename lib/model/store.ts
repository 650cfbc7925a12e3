// A whole autoencoder in one folder: config.json, encoder/, decoder_<identity>/ for each identity.

import { promises as fs } from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../util/fsutil';
import { CorruptFile, readJsonFileAsync } from '../util/jsonfile';
import { type Autoencoder } from './builder';
import { ModelConfigSchema, validateConfig, type ModelConfig } from './config';
import { loadLayersModel, saveLayersModel } from './fs-io';

export const CONFIG_JSON = 'config.json';

export function decoderDirName(identity: string): string {
  return `decoder_${identity}`;
}

export async function saveAutoencoder(ae: Autoencoder, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await saveLayersModel(ae.encoder, path.join(dir, 'encoder'));
  for (const id of ae.config.identities) await saveLayersModel(ae.decoders[id], path.join(dir, decoderDirName(id)));
  await writeFileAtomic(path.join(dir, CONFIG_JSON), JSON.stringify(ae.config, null, 2) + '\n');
}

/** A model folder's config.json; a damaged or unbuildable one throws CorruptFile naming it. */
export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, CONFIG_JSON);
  const c = await readJsonFileAsync(file, ModelConfigSchema);
  try {
    validateConfig(c);
  } catch (e) {
    throw new CorruptFile(file, (e as Error).message.split('\n')[0]);
  }
  return c;
}

export async function loadAutoencoder(dir: string): Promise<Autoencoder> {
  const config = await readModelConfig(dir);
  const encoder = await loadLayersModel(path.join(dir, 'encoder'));
  const decoders: Autoencoder['decoders'] = {};
  for (const id of config.identities) decoders[id] = await loadLayersModel(path.join(dir, decoderDirName(id)));
  return { config, encoder, decoders };
}
