// The recipe comparison of lib/lab/recipes.ts, shown: the same faces through every model, the
// table of scores with the settings that differ, and dB against minutes.

import * as path from 'path';
import { loadTruthFaces } from '../samples/truth';
import { compareRuns, type RunComparison } from '../lab/runs';
import type { RecipeComparison } from '../lab/recipes';
import { showRunComparison } from './runs';
import { showFigure, type PlotlyFigure } from './plotly';

/** The comparison's chart: dB against minutes, one line per recipe and direction. */
export function comparisonFigure(c: RecipeComparison): PlotlyFigure {
  const [la, lb] = c.measure === 'swap vs truth' ? ['A→B', 'B→A'] : ['A', 'B'];
  return {
    data: c.tracks.flatMap((t) => [
      { type: 'scatter', mode: 'lines+markers', name: `${t.recipe} ${la}`, x: t.minutes, y: t.a },
      { type: 'scatter', mode: 'lines+markers', name: `${t.recipe} ${lb}`, x: t.minutes, y: t.b, line: { dash: 'dot' } },
    ]),
    layout: {
      title: { text: c.measure === 'swap vs truth' ? 'Swap against the ground truth (PSNR, higher is better)' : 'Reconstruction of held-out faces (PSNR)' },
      xaxis: { title: { text: 'minutes of training in this run' } },
      yaxis: { title: { text: 'dB' } },
    },
  };
}

/**
 * The recipes side by side (lib/lab/runs.ts): the same faces through every model, their loss
 * curves, the table of scores with the settings that differ; then dB against minutes.
 */
export async function showComparison(c: RecipeComparison, log: (line: string) => void = console.log): Promise<RunComparison> {
  const truth = c.truth;
  const runs = await compareRuns(c.tracks.map((t) => t.modelDir), {
    faces: c.faces,
    truth: truth ? (size, cropFraction) => loadTruthFaces(truth.dir, { geometry: truth.geometry, size, cropFraction }) : undefined,
    gridFile: path.join(path.dirname(c.tracks[0]!.modelDir), 'compare.png'),
  });
  await showRunComparison(runs, log);
  showFigure(comparisonFigure(c));
  return runs;
}
