import type { BenchResults } from './results.js';
import type { SuiteName } from './parse-args.js';
import { resolveSuite } from './suites.js';

/**
 * Joins the results of several runs of one suite (e.g. the shards of `paper`) into one, so one summary and one
 * pair of charts cover them all. Keeps the first run's environment and records every run's command and date.
 * @throws {Error} when the runs are of different suites or there are none.
 * @example const all = mergeResults([shard1, shard2]); writeOutputs(all, 'results/paper-nvidia-h100');
 */
export function mergeResults(runs: readonly BenchResults[]): BenchResults {
  if (runs.length === 0) throw new Error('merge needs at least one results.json');
  const suites = [...new Set(runs.map((r) => r.suite))];
  if (suites.length > 1) throw new Error(`cannot merge runs of different suites: ${suites.join(', ')}`);
  const first = runs[0];
  const byName = new Map(first.backends.map((b) => [b.name, b]));
  for (const run of runs.slice(1)) {
    for (const b of run.backends) if (!byName.get(b.name)?.benchmarked) byName.set(b.name, b);
  }
  return {
    ...first,
    settings: { ...first.settings, shard: runs.map((r) => r.settings.shard ?? 'all').join(' + ') },
    environment: {
      ...first.environment,
      command: runs.map((r) => String(r.environment.command)).join(' ; '),
      mergedRuns: runs.map((r) => ({ command: r.environment.command, date: r.environment.date, commit: r.environment.commit })),
    },
    backends: [...byName.values()],
    baselines: runs.flatMap((r) => r.baselines),
    cases: attachBaselines(runs.flatMap((r) => r.cases), runs.flatMap((r) => r.baselines)),
    durationSeconds: runs.reduce((sum, r) => sum + r.durationSeconds, 0),
    partial: runs.some((r) => r.partial) && !coversSuite(first.suite, runs),
  };
}

/**
 * A run made with `--baselines none` (to fill in cases another run missed) has no speedups: derive them from the
 * dense baselines the other runs measured on the same shape, exactly as `caseMetrics` (run-suite.ts) does within a run.
 */
function attachBaselines(cases: BenchResults['cases'], baselines: BenchResults['baselines']): BenchResults['cases'] {
  const shapeKey = (s: { m: number; n: number; k: number }) => `${s.m}x${s.n}x${s.k}`;
  return cases.map((c) => {
    const metrics = c.metrics;
    if (!metrics || Object.keys(metrics.speedups).length > 0) return c;
    const medianMs = c.measurement.stats?.medianMs;
    if (medianMs === undefined) return c;
    const speedups: Record<string, number> = {};
    for (const b of baselines) {
      if (shapeKey(b.shape) === shapeKey(c.shape) && b.measurement.status === 'ok' && b.measurement.stats) {
        speedups[b.id] = b.measurement.stats.medianMs / medianMs;
      }
    }
    const own = speedups[`${c.backend}-dense`] ?? null;
    return {
      ...c,
      metrics: { ...metrics, speedups, speedupOverOwnDense: own, percentOfIdeal: own === null ? null : (100 * own) / c.model.idealSpeedup },
    };
  });
}

/**
 * True when, together, the runs measured every shape × pattern of a built-in suite for every backend that any
 * run benchmarked: then a partial run completed by another (e.g. its missing shapes) is no longer partial.
 */
function coversSuite(suite: string, runs: readonly BenchResults[]): boolean {
  if (suite === 'custom') return false;
  let expected: ReturnType<typeof resolveSuite>;
  try {
    expected = resolveSuite(suite as SuiteName, {});
  } catch {
    return false;
  }
  const key = (s: { m: number; n: number; k: number }, p: { keep: number; group: number; vectorLength: number }, b: string) =>
    `${s.m}x${s.n}x${s.k}/${p.keep}:${p.group}:${p.vectorLength}/${b}`;
  const measured = new Set(runs.flatMap((r) => r.cases.map((c) => key(c.shape, c.pattern, c.backend))));
  const backends = new Set(runs.flatMap((r) => r.cases.map((c) => c.backend)));
  for (const backend of backends) {
    for (const shape of expected.shapes) {
      for (const pattern of expected.patterns) if (!measured.has(key(shape, pattern, backend))) return false;
    }
  }
  return true;
}
