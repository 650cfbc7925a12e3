import { statSync } from 'fs';
import { scrape, type ScrapeSummary } from '../scrape/downloader';
import { PROVIDER_NAMES, type ProviderName } from '../scrape/provider';
import { createProvider, specProblem, type ProviderSpec } from '../scrape/providers';
import { defineCommand, ensureWritableDir, UsageError } from './command';
import { choice, int, text, type ValuesOf } from './options';

const OPTIONS = {
  provider: choice(PROVIDER_NAMES, 'where photos come from (default wikimedia; urls with --urls, folder with --from)'),
  query: text('WORDS', 'who to search for (a search provider needs it)'),
  out: text('DIR', 'folder the photos and their manifest go to', { required: true }),
  limit: int('N', 'photos to keep', { min: 1, max: 100_000, default: 100 }),
  urls: text('FILE', 'a file of photo addresses, one a line (provider urls)'),
  from: text('DIR', 'a folder of photos (provider folder)'),
  concurrency: int('N', 'downloads at once', { min: 1, max: 32, default: 4 }),
  'min-side': int('PX', 'smallest photo side kept', { min: 1, max: 10_000, default: 128 }),
  'max-mb': int('N', 'largest download in MB', { min: 1, max: 1024, default: 25 }),
  'timeout-ms': int('MS', 'per-request timeout (default 30000)', { min: 100, max: 600_000 }),
  'base-url': text('URL', "the provider's address (a mirror, or a test server)"),
  contact: text('EMAIL|URL', 'how a site can reach you, sent in the User-Agent'),
};

export const scrapeCommand = defineCommand({
  summary: 'collect photos of a person with their licences',
  options: OPTIONS,
  async run(values) {
    const spec = parseSpec(values);
    const { out, limit } = values;
    ensureWritableDir('scrape', out);
    // A provider whose host cannot be reached throws ProviderUnreachable, which cli.ts reports as
    // one line with exit 1: the network failed, not the user's input (exit 2 is for that).
    const controller = new AbortController();
    // Ctrl-C stops pulling candidates, drops unfinished downloads and still prints the summary.
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const summary = await scrape({
        provider: createProvider(spec),
        out,
        limit,
        concurrency: values.concurrency,
        minSide: values['min-side'],
        maxBytes: values['max-mb'] * 1024 * 1024,
        http: values['timeout-ms'] !== undefined ? { timeoutMs: values['timeout-ms'] } : {},
        contact: values.contact,
        signal: controller.signal,
        log: (line) => process.stderr.write(line + '\n'),
      });
      return { result: summary, text: formatSummary(summary), exitCode: summary.interrupted ? 1 : 0 };
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }
  },
});

function parseSpec(values: ValuesOf<typeof OPTIONS>): ProviderSpec {
  // --urls or --from alone imply their provider; otherwise Wikimedia Commons is the default.
  const name: ProviderName = values.provider ?? (values.urls ? 'urls' : values.from ? 'folder' : 'wikimedia');
  const spec: ProviderSpec = { name, query: values.query, urls: values.urls, from: values.from, baseUrl: values['base-url'] };
  const problem = specProblem(spec);
  if (problem) throw new UsageError(`${problem} (see deepfake-lab scrape --help)`);
  if (spec.baseUrl) {
    try {
      new URL(spec.baseUrl);
    } catch {
      throw new UsageError(`--base-url is not a URL: ${spec.baseUrl}`);
    }
  }
  if (name === 'urls' && !isKind(spec.urls!, 'file')) throw new UsageError(`--urls ${spec.urls}: not a readable file`);
  if (name === 'folder' && !isKind(spec.from!, 'dir')) throw new UsageError(`--from ${spec.from}: not a folder`);
  return spec;
}

function isKind(p: string, kind: 'file' | 'dir'): boolean {
  try {
    const st = statSync(p);
    return kind === 'file' ? st.isFile() : st.isDirectory();
  } catch {
    return false;
  }
}

function formatSummary(s: ScrapeSummary): string {
  const reasons = Object.entries(s.skipped)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `  ${String(n).padStart(5)}  ${r}`);
  return [
    `${s.provider}${s.query ? ` "${s.query}"` : ''}: ${s.downloaded} new photos, ${s.kept} in ${s.out} (${s.candidates} candidates, ${s.seconds.toFixed(1)} s)${s.interrupted ? ', interrupted' : ''}`,
    ...(reasons.length ? ['skipped:', ...reasons] : []),
    `manifest: ${s.manifest}`,
  ].join('\n');
}
