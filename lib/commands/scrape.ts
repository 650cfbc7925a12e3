import { statSync } from 'fs';
import { scrape, type ScrapeSummary } from '../scrape/downloader';
import { PROVIDER_NAMES, type ProviderName } from '../scrape/provider';
import { createProvider, isProviderName, specProblem, type ProviderSpec } from '../scrape/providers';
import { ensureWritableDir, intOption, requireString, UsageError, type Command, type Values } from './command';

const USAGE =
  'deepfake-lab scrape [--provider wikimedia|openverse|bing|urls|folder] --query WORDS --out DIR [--limit N] ' +
  '[--urls FILE] [--from DIR] [--concurrency N] [--min-side PX] [--max-mb N] [--timeout-ms MS] [--base-url URL] [--contact EMAIL|URL] [--json]';

export const scrapeCommand: Command = {
  summary: 'collect photos of a person with their licences',
  usage: USAGE,
  options: {
    provider: { type: 'string' },
    query: { type: 'string' },
    out: { type: 'string' },
    limit: { type: 'string' },
    urls: { type: 'string' },
    from: { type: 'string' },
    concurrency: { type: 'string' },
    'min-side': { type: 'string' },
    'max-mb': { type: 'string' },
    'timeout-ms': { type: 'string' },
    'base-url': { type: 'string' },
    contact: { type: 'string' },
  },
  async run(values) {
    const spec = parseSpec(values);
    const out = requireString(values, 'out', USAGE);
    const limit = intOption(values, 'limit', 100, 1, 100_000);
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
        concurrency: intOption(values, 'concurrency', 4, 1, 32),
        minSide: intOption(values, 'min-side', 128, 1, 10_000),
        maxBytes: intOption(values, 'max-mb', 25, 1, 1024) * 1024 * 1024,
        http: values['timeout-ms'] !== undefined ? { timeoutMs: intOption(values, 'timeout-ms', 30_000, 100, 600_000) } : {},
        contact: typeof values.contact === 'string' ? values.contact : undefined,
        signal: controller.signal,
        log: (line) => process.stderr.write(line + '\n'),
      });
      return { result: summary, text: formatSummary(summary), exitCode: summary.interrupted ? 1 : 0 };
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
    }
  },
};

function parseSpec(values: Values): ProviderSpec {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  // --urls or --from alone imply their provider; otherwise Wikimedia Commons is the default.
  const given = str('provider') ?? (str('urls') ? 'urls' : str('from') ? 'folder' : 'wikimedia');
  if (!isProviderName(given)) throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${given}"`);
  const name: ProviderName = given;
  const spec: ProviderSpec = { name, query: str('query'), urls: str('urls'), from: str('from'), baseUrl: str('base-url') };
  const problem = specProblem(spec);
  if (problem) throw new UsageError(`${problem} (usage: ${USAGE})`);
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
