import { formatPattern, formatShape, formatSpeedup } from './format-number.js';
import type { BenchResults } from './results.js';
import { baselineCells, caseCells, resultColumns } from './result-rows.js';
import { geometricMean } from './stats.js';

function table(header: readonly string[], rows: readonly (readonly string[])[], firstNumeric = 3): string {
  const esc = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map((_, i) => (i < firstNumeric ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/**
 * The runs a merged results file joins (`environment.mergedRuns`, written by `nmkit-bench merge`), when they were made at
 * more than one commit; empty otherwise (shards of one run at one commit need no list).
 */
export function mergedRuns(env: Record<string, unknown>): { command: string; commit: string; date: string }[] {
  const runs = Array.isArray(env.mergedRuns) ? (env.mergedRuns as Record<string, unknown>[]) : [];
  const described = runs.map((r) => ({ command: String(r.command), commit: String(r.commit ?? 'unknown').slice(0, 7), date: String(r.date ?? '').slice(0, 10) }));
  return new Set(described.map((r) => r.commit)).size > 1 ? described : [];
}

/** The device a run is named after: its best benchmarked backend's device. */
export function headlineDevice(results: BenchResults): string {
  const best = results.backends.find((b) => b.benchmarked);
  return best ? `${best.name} (${best.device})` : 'no backend';
}

/**
 * The Markdown summary of a run, generated from its JSON only (so docs never carry hand-typed numbers):
 * environment, backends with the reason of each unavailable one, geometric-mean speedups per pattern, every
 * measurement, every problem, and the two charts.
 * @example writeFileSync('summary.md', markdownSummary(JSON.parse(readFileSync('results.json', 'utf8'))));
 */
export function markdownSummary(results: BenchResults, files = { json: 'results.json', speedup: 'speedup.svg', roofline: 'roofline.svg' }): string {
  const env = results.environment;
  const withTfjs = results.baselines.some((b) => b.id === 'tfjs');
  const out: string[] = [];
  out.push(`# nmkit-bench \`${results.suite}\` on ${headlineDevice(results)}`);
  out.push('');
  out.push(
    `Generated from [\`${files.json}\`](${files.json}) by \`nmkit-bench\`; do not edit by hand ` +
      `(re-render with \`nmkit-bench render ${files.json}\`).`,
  );
  out.push('');
  if (results.partial) out.push('> **Partial results**: the run was stopped early (time budget) or is still in progress.\n');
  out.push(`- command: \`${String(env.command)}\``);
  out.push(`- date: ${String(env.date)}; duration ${results.durationSeconds.toFixed(1)} s`);
  out.push(`- commit: \`${String(env.commit)}\`${env.dirty ? ' (working tree had uncommitted changes)' : ''}`);
  // Merged runs (shards, or a re-run of one backend joined to an earlier run of the others): each run's own commit.
  for (const run of mergedRuns(env)) out.push(`  - run \`${run.command}\`: commit \`${run.commit}\`, ${run.date}`);
  out.push(`- Node ${String(env.node)} on ${String(env.os)}, ${String(env.cpu)} × ${String(env.logicalCores)} logical cores, ${String(env.totalMemoryGiB)} GiB`);
  out.push(`- load average at start: ${JSON.stringify(env.loadAverage)} (timings on a shared machine are noisy)`);
  if (env.gpu) out.push(`- GPU (nvidia-smi): ${(env.gpu as string[]).join('; ')}`);
  out.push(
    `- suite: ${results.description}; warm-up ${results.settings.warmup}, ${results.settings.repeats} timed runs per case, seed ${results.settings.seed}` +
      (results.settings.shard ? `, shard ${results.settings.shard}` : '') +
      (results.settings.operands === 'device-matrix'
        ? '; operands: device-matrix (A and C in the layouts a chain of matmulDevice calls passes on: for CUDA tiled plans A is read as Aᵀ, made once, and C written as Cᵀ)'
        : ''),
  );
  out.push('');

  out.push('## Backends');
  out.push('');
  out.push(
    table(
      ['backend', 'status', 'device', 'timing', 'dense baseline', 'reason / fix'],
      results.backends.map((b) => [
        b.name,
        b.benchmarked ? 'benchmarked' : b.available ? 'available, not run' : 'unavailable',
        b.device ?? '',
        b.timing ?? '',
        b.denseBaseline ?? '',
        [b.reason, b.fix ? `fix: ${b.fix}` : undefined].filter(Boolean).join('; '),
      ]),
      Number.POSITIVE_INFINITY,
    ),
  );
  out.push('');

  const backends = [...new Set(results.cases.map((c) => c.backend))];
  const patterns = [...new Map(results.cases.map((c) => [formatPattern(c.pattern), c])).values()];
  out.push('## Speedup over each backend’s own dense baseline (geometric mean over shapes)');
  out.push('');
  out.push(
    table(
      ['pattern', 'sparsity', 'ideal 1/ρ', ...backends],
      patterns.map((p) => [
        formatPattern(p.pattern),
        `${(100 * p.sparsity).toFixed(1)}%`,
        formatSpeedup(p.model.idealSpeedup),
        ...backends.map((name) => {
          const xs = results.cases
            .filter((c) => c.backend === name && formatPattern(c.pattern) === formatPattern(p.pattern))
            .map((c) => c.metrics?.speedupOverOwnDense)
            .filter((s): s is number => typeof s === 'number' && s > 0);
          return xs.length ? `${formatSpeedup(geometricMean(xs))} (${xs.length})` : 'n/a';
        }),
      ]),
    ),
  );
  out.push('');

  const baselineIds = [...new Map(results.baselines.map((b) => [b.id, `× ${b.label} (${b.owner})`])).entries()];
  if (baselineIds.length > 0 && backends.length > 0) {
    out.push('## Speedup over every baseline (geometric mean over shapes)');
    out.push('');
    const rows: string[][] = [];
    for (const p of patterns) {
      for (const name of backends) {
        const mine = results.cases.filter((c) => c.backend === name && formatPattern(c.pattern) === formatPattern(p.pattern));
        rows.push([
          formatPattern(p.pattern),
          name,
          ...baselineIds.map(([id]) => {
            const xs = mine.map((c) => c.metrics?.speedups[id]).filter((x): x is number => typeof x === 'number' && x > 0);
            return xs.length ? formatSpeedup(geometricMean(xs)) : 'n/a';
          }),
        ]);
      }
    }
    out.push(table(['pattern', 'backend', ...baselineIds.map(([, label]) => label)], rows, 2));
    out.push('');
  }
  out.push(`![speedup over dense against sparsity](${files.speedup})`);
  out.push(`![roofline](${files.roofline})`);
  out.push('');

  out.push('## All measurements');
  out.push('');
  out.push(
    'Median of the timed runs; ± is half the interquartile range over the median. eff = 2·M·N·K / time; useful counts ' +
      'only kept weights. % of 1/ρ = speedup over the own dense baseline / ideal. % peak = useful FLOP/s over the FP32 ' +
      'peak (n/a when the device peak is unknown). bound = what the roofline model says for that device. check = ' +
      'entries verified against float64 / total entries.',
  );
  out.push('');
  const rows: string[][] = [];
  const shapes = [...new Map([...results.baselines, ...results.cases].map((r) => [formatShape(r.shape), r.shape])).values()];
  for (const shape of shapes) {
    for (const b of results.baselines.filter((b) => formatShape(b.shape) === formatShape(shape))) rows.push(baselineCells(b, withTfjs));
    for (const c of results.cases.filter((c) => formatShape(c.shape) === formatShape(shape))) rows.push(caseCells(c, withTfjs));
  }
  out.push(table(resultColumns(withTfjs), rows));
  out.push('');

  const problems = [
    ...results.baselines.filter((b) => b.measurement.status !== 'ok').map((b) => [formatShape(b.shape), `dense ${b.label}`, b.owner, b.measurement] as const),
    ...results.cases.filter((c) => c.measurement.status !== 'ok').map((c) => [formatShape(c.shape), formatPattern(c.pattern), c.backend, c.measurement] as const),
  ];
  out.push('## Problems');
  out.push('');
  if (problems.length === 0) {
    out.push('None: every result matched the float64 reference and was timed.');
  } else {
    out.push(table(['M×N×K', 'kernel', 'backend', 'status', 'reason'], problems.map(([s, k, b, m]) => [s, k, b, m.status, m.reason ?? '']), Number.POSITIVE_INFINITY));
  }
  out.push('');
  return out.join('\n');
}
