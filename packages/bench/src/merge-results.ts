import type { BenchResults } from './results.js';

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
    cases: runs.flatMap((r) => r.cases),
    durationSeconds: runs.reduce((sum, r) => sum + r.durationSeconds, 0),
    partial: runs.some((r) => r.partial),
  };
}
