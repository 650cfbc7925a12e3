// Executes the notebooks given on the command line, in order, through Jupyter; writes executed
// copies and HTML pages under output/notebooks/ and stops at the first failing cell.
import * as path from 'path';
import { executeNotebook, NotebookFailed } from '../lib/util/notebook-runner';
import { PROJECT_ROOT } from '../lib/util/project';

async function main(files: string[]): Promise<number> {
  for (const file of files) {
    const name = path.basename(file, '.ipynb');
    const out = path.join(PROJECT_ROOT, 'output', 'notebooks', `${name}.ipynb`);
    const html = path.join(PROJECT_ROOT, 'output', 'notebooks', `${name}.html`);
    process.stderr.write(`notebook ${name}: running...\n`);
    try {
      const run = await executeNotebook(path.resolve(file), { out, html });
      process.stderr.write(`notebook ${name}: ${run.cells} cells in ${run.seconds} s -> ${path.relative(process.cwd(), html)}\n`);
    } catch (e) {
      process.stderr.write(`notebook ${name}: ${e instanceof NotebookFailed ? e.message : (e as Error).message}\n`);
      return 1;
    }
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
