// Building a provider by name, for the CLI and notebooks.

import { bingProvider } from './bing';
import { folderProvider } from './folder';
import { openverseProvider } from './openverse';
import { PROVIDER_NAMES, type Provider, type ProviderName } from './provider';
import { urlListProvider } from './urls';
import { wikimediaProvider } from './wikimedia';

export interface ProviderSpec {
  name: ProviderName;
  /** Search words (wikimedia, openverse, bing). */
  query?: string;
  /** URL list file (urls). */
  urls?: string;
  /** Local folder (folder). */
  from?: string;
  /** Another address for the provider's API or results page (a mirror, or a test server). */
  baseUrl?: string;
}

export function isProviderName(s: string): s is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(s);
}

/** What a spec lacks to be usable, or null. */
export function specProblem(s: ProviderSpec): string | null {
  if (s.name === 'urls') return s.urls ? null : '--provider urls needs --urls FILE';
  if (s.name === 'folder') return s.from ? null : '--provider folder needs --from DIR';
  return s.query?.trim() ? null : `--provider ${s.name} needs --query WORDS`;
}

export function createProvider(s: ProviderSpec): Provider {
  const problem = specProblem(s);
  if (problem) throw new Error(problem);
  switch (s.name) {
    case 'wikimedia':
      return wikimediaProvider({ query: s.query!, baseUrl: s.baseUrl });
    case 'openverse':
      return openverseProvider({ query: s.query!, baseUrl: s.baseUrl });
    case 'bing':
      return bingProvider({ query: s.query!, baseUrl: s.baseUrl });
    case 'urls':
      return urlListProvider(s.urls!);
    case 'folder':
      return folderProvider(s.from!);
  }
}
