/**
 * Regenerates the results block of the root README from packages/bench/results (`--check`: exit 1 if it is stale).
 * Usage: node dist/update-readme.js [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeResultsBlock, spliceReadme } from './readme-results.js';

const bench = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const readmePath = resolve(bench, '../../README.md');
const current = readFileSync(readmePath, 'utf8');
const next = spliceReadme(current, readmeResultsBlock(resolve(bench, 'results')));
if (process.argv.includes('--check')) {
  if (next !== current) {
    process.stderr.write('README.md results block is stale: run `pnpm --filter @nmkit/bench run readme`.\n');
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(readmePath, next);
  process.stdout.write(`updated ${readmePath}\n`);
}
