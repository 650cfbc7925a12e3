// A local folder of photos the user already has: the same checks, de-duplication and manifest as
// downloads, and the output folder gets copies (the originals are never touched).

import * as path from 'path';
import { pathToFileURL } from 'url';
import { listImageFiles } from '../util/image';
import type { Provider, SearchContext } from './provider';

export function folderProvider(dir: string): Provider {
  return {
    name: 'folder',
    query: null,
    async *candidates(ctx: SearchContext) {
      const { files, ignored } = await listImageFiles(path.resolve(dir));
      const notHidden = ignored.filter((i) => i.reason !== 'hidden file');
      if (notHidden.length) ctx.log(`folder: ignored ${notHidden.length} entries by name (${notHidden.map((i) => path.basename(i.file)).slice(0, 5).join(', ')}${notHidden.length > 5 ? ', ...' : ''})`);
      for (const file of files) yield { url: pathToFileURL(file).href, localPath: file, page: null, licence: null };
    },
  };
}
