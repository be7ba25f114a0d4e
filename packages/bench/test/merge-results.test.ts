import { describe, expect, it } from 'vitest';
import { mergeResults } from '../src/merge-results.js';
import type { BenchResults } from '../src/results.js';
import { resolveSuite } from '../src/suites.js';

/** A minimal results object of the `decode` suite holding the given (shape index, pattern index) cases. */
function run(cases: [number, number][], partial: boolean): BenchResults {
  const suite = resolveSuite('decode', {});
  return {
    suite: 'decode',
    settings: {},
    environment: { command: 'x', date: 'd', commit: 'c' },
    backends: [{ name: 'cuda', benchmarked: true }],
    baselines: [],
    cases: cases.map(([s, p]) => ({ shape: suite.shapes[s], pattern: suite.patterns[p], backend: 'cuda' })),
    durationSeconds: 1,
    partial,
  } as unknown as BenchResults;
}

describe('mergeResults', () => {
  const suite = resolveSuite('decode', {});
  const all: [number, number][] = suite.shapes.flatMap((_, s) => suite.patterns.map((_, p) => [s, p] as [number, number]));

  it('clears "partial" when a later run measured exactly what the partial one missed', () => {
    const half = Math.floor(all.length / 2);
    expect(mergeResults([run(all.slice(0, half), true), run(all.slice(half), false)]).partial).toBe(false);
  });

  it('stays partial while any shape × pattern is missing', () => {
    expect(mergeResults([run(all.slice(0, 3), true), run(all.slice(4), false)]).partial).toBe(true);
  });

  it('derives speedups for cases run without baselines from another run\'s dense baseline on the same shape', () => {
    const suite = resolveSuite('decode', {});
    const shape = suite.shapes[0];
    const base = run([[0, 0]], true);
    const withBaseline = {
      ...base,
      baselines: [{ id: 'cuda-dense', shape, measurement: { status: 'ok', stats: { medianMs: 4 } } }],
      cases: [],
    } as unknown as BenchResults;
    const filler = run([[0, 0]], false);
    const noSpeedups = {
      ...filler,
      cases: filler.cases.map((c) => ({
        ...c,
        model: { idealSpeedup: 4 },
        measurement: { status: 'ok', stats: { medianMs: 2 } },
        metrics: { speedups: {}, speedupOverOwnDense: null, percentOfIdeal: null },
      })),
    } as unknown as BenchResults;
    const merged = mergeResults([withBaseline, noSpeedups]);
    expect(merged.cases[0].metrics?.speedupOverOwnDense).toBe(2);
    expect(merged.cases[0].metrics?.percentOfIdeal).toBe(50);
  });
});
