// A whole autoencoder in one folder: config.json, encoder/, decoder_<identity>/ for each identity.

import { promises as fs } from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../fsutil';
import { type Autoencoder } from './builder';
import { validateConfig, type ModelConfig } from './config';
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

export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const c = JSON.parse(await fs.readFile(path.join(dir, CONFIG_JSON), 'utf8')) as ModelConfig;
  validateConfig(c);
  return c;
}

export async function loadAutoencoder(dir: string): Promise<Autoencoder> {
  const config = await readModelConfig(dir);
  const encoder = await loadLayersModel(path.join(dir, 'encoder'));
  const decoders: Autoencoder['decoders'] = {};
  for (const id of config.identities) decoders[id] = await loadLayersModel(path.join(dir, decoderDirName(id)));
  return { config, encoder, decoders };
}
