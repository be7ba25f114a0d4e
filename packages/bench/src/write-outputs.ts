import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rooflineChart, speedupChart } from './charts.js';
import { markdownSummary } from './markdown-summary.js';
import type { BenchResults } from './results.js';

/** File names of one run's outputs. */
export const OUTPUT_FILES = { json: 'results.json', summary: 'summary.md', speedup: 'speedup.svg', roofline: 'roofline.svg' } as const;

/**
 * Writes a run's JSON (unless `writeJson` is false, as when re-rendering), its Markdown summary and its two SVG
 * charts into `dir`. Returns the paths written.
 * @example writeOutputs(results, 'packages/bench/results/quick-cpu');
 */
export function writeOutputs(results: BenchResults, dir: string, writeJson = true): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    [OUTPUT_FILES.summary, markdownSummary(results, OUTPUT_FILES)],
    [OUTPUT_FILES.speedup, speedupChart(results)],
    [OUTPUT_FILES.roofline, rooflineChart(results)],
  ];
  if (writeJson) files.unshift([OUTPUT_FILES.json, `${JSON.stringify(results, null, 1)}\n`]);
  return files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}
