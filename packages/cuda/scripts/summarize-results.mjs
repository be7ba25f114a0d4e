#!/usr/bin/env node
// Summarises results/{bench,decode,paper}.json (written on the GPU machine by build/device/device-run.js) against the
// issue's targets into results/summary.md.   node scripts/summarize-results.mjs [resultsDir]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'results';
const read = (name) => (existsSync(join(dir, name)) ? JSON.parse(readFileSync(join(dir, name), 'utf8')) : undefined);
const target = (row) => {
  const key = row.pattern.split(' ')[0];
  if (row.m <= 16) return 0.7 / row.density;
  const big = { '16:32': 1.9, '12:32': 2.6, '8:32': 3.7, '4:32': 6.6, '2:4': 1.7, '4:8': 1.7 };
  const small = { '16:32': 1.7, '12:32': 2.2, '8:32': 3.3, '4:32': 5.5, '2:4': 1.7, '4:8': 1.7 };
  if (row.n === 4096 && row.k === 4096 && row.m === 4096) return big[key];
  if (row.n === 4096 && row.k === 4096 && row.m === 256) return small[key];
  return undefined;
};
const lines = ['# Measured results (summary)', ''];
for (const name of ['bench', 'decode', 'paper']) {
  const data = read(`${name}.json`);
  if (!data) continue;
  const { meta, rows } = data;
  lines.push(`## ${name}`, '', `${meta.device}, NVIDIA driver ${meta.driver ?? '?'}, commit ${meta.commit}, ${meta.date}`, `command: \`${meta.command}\``, '');
  lines.push('| M | N | K | pattern | verified | cuBLAS TF/s | N:M TF/s (best) | speedup (best) | speedup (planner) | target | met |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const t = target(r);
    lines.push(
      `| ${r.m} | ${r.n} | ${r.k} | ${r.pattern} | ${r.verified ? 'yes' : 'NO'} | ${r.cublasTflops.toFixed(1)} | ${r.bestTflops.toFixed(1)} | ` +
        `${r.bestSpeedup.toFixed(2)}× | ${r.plannedSpeedup.toFixed(2)}× | ${t ? `${t.toFixed(2)}×` : '—'} | ${t ? (r.bestSpeedup >= t ? 'yes' : `no (${((100 * r.bestSpeedup) / t).toFixed(0)} %)`) : ''} |`,
    );
  }
  if (name === 'paper') {
    const byPattern = new Map();
    for (const r of rows) byPattern.set(r.pattern, [...(byPattern.get(r.pattern) ?? []), r.plannedSpeedup]);
    lines.push('', 'Mean speedup over cuBLAS by pattern (planner plans, no tuning):', '');
    for (const [p, list] of byPattern) lines.push(`- ${p}: ${(list.reduce((x, y) => x + y, 0) / list.length).toFixed(2)}× over ${list.length} shapes`);
  }
  lines.push('');
}
writeFileSync(join(dir, 'summary.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
