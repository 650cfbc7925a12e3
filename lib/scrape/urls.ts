// A text file of image URLs, one a line; blank lines and lines starting with # are ignored. Every
// other line is a candidate as written: the downloader refuses what is not http(s) and records it.

import { promises as fs } from 'fs';
import type { Provider } from './provider';

export function urlListProvider(file: string): Provider {
  return {
    name: 'urls',
    query: null,
    async *candidates() {
      const text = await fs.readFile(file, 'utf8');
      for (const line of text.split(/\r?\n/)) {
        const url = line.trim();
        if (url && !url.startsWith('#')) yield { url, page: null, licence: null };
      }
    },
  };
}
