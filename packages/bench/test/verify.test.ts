import {
  type DenseMatrix,
  type NMBackend,
  nmPattern,
  type PreparedWeights,
  randomCompressed,
  randomDense,
  referenceSpmm,
  type TimingOptions,
  type TimingResult,
} from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { backendDenseBaseline } from '../src/baselines.js';
import { runSuite } from '../src/run-suite.js';
import { resolveSuite } from '../src/suites.js';
import { verifySampled } from '../src/verify-result.js';
import { referenceBackend } from './reference-backend.js';

/** The real reference backend, with its results passed through `perturb` and its time() calls counted. */
function wrapped(perturb: (c: DenseMatrix) => DenseMatrix): NMBackend & { timeCalls: number } {
  const backend: NMBackend & { timeCalls: number } = {
    ...referenceBackend((inner) => ({
      matmul: async (a: DenseMatrix, w: PreparedWeights) => perturb(await inner.matmul(a, w as never)),
      time: async (a: DenseMatrix, w: PreparedWeights, o?: TimingOptions): Promise<TimingResult> => {
        backend.timeCalls++;
        return inner.time(a, w as never, o);
      },
    })),
    timeCalls: 0,
  };
  return backend;
}

const suite = resolveSuite('custom', {
  shapes: [
    { m: 5, n: 70, k: 100 },
    { m: 64, n: 96, k: 64 },
  ],
  patterns: [nmPattern(8, 32, 32), nmPattern(2, 4, 1)],
  warmup: 0,
  repeats: 2,
});

async function run(backend: NMBackend) {
  const dense = backendDenseBaseline(backend)!;
  return runSuite({ suite, backends: [backend], baselines: [dense], seed: 3, peakFor: () => undefined });
}

describe('verification before timing', () => {
  it('times every case of a correct backend and its dense baseline', async () => {
    const backend = wrapped((c) => c);
    const { cases, baselines } = await run(backend);
    expect(cases).toHaveLength(4);
    expect(baselines).toHaveLength(2);
    for (const r of [...cases, ...baselines]) {
      expect(r.measurement.status).toBe('ok');
      expect(r.measurement.stats?.count).toBe(2);
      expect(r.measurement.verification?.checkedEntries).toBe(r.shape.m * r.shape.n);
    }
    expect(cases.every((c) => c.metrics && c.metrics.speedupOverOwnDense !== null)).toBe(true);
    expect(backend.timeCalls).toBe(6);
  });

  it('reports a backend that perturbs C as wrong, names the entry, and never times it', async () => {
    const backend = wrapped((c) => {
      const data = c.data.slice();
      data[data.length - 1] += 1e-3 * (1 + Math.abs(data[data.length - 1]));
      return { ...c, data };
    });
    const { cases, baselines } = await run(backend);
    for (const r of [...cases, ...baselines]) {
      expect(r.measurement.status).toBe('wrong');
      expect(r.measurement.reason).toMatch(/^C\[\d+\]\[\d+\] = .*expected/);
      expect(r.measurement.stats).toBeUndefined();
    }
    expect(cases.every((c) => c.metrics === undefined)).toBe(true);
    expect(backend.timeCalls).toBe(0);
  });

  it('reports a NaN anywhere in C and a result of the wrong shape', async () => {
    const nan = wrapped((c) => {
      const data = c.data.slice();
      data[Math.floor(data.length / 2)] = Number.NaN;
      return { ...c, data };
    });
    const { cases } = await run(nan);
    expect(cases.every((c) => c.measurement.status === 'wrong' && /NaN/.test(c.measurement.reason!))).toBe(true);
    const short = wrapped((c) => ({ rows: c.rows - 1, cols: c.cols, data: c.data.subarray(0, (c.rows - 1) * c.cols) }));
    const { cases: shortCases } = await run(short);
    expect(shortCases.every((c) => /must give/.test(c.measurement.reason!))).toBe(true);
    expect(nan.timeCalls + short.timeCalls).toBe(0);
  });

  it('records a throwing matmul as an error, not a crash', async () => {
    const backend = wrapped(() => {
      throw new Error('device lost');
    });
    const { cases } = await run(backend);
    expect(cases.every((c) => c.measurement.status === 'error' && /device lost/.test(c.measurement.reason!))).toBe(true);
    expect(backend.timeCalls).toBe(0);
  });
});

describe('verifySampled on a big problem', () => {
  it('checks a bounded sample (always including the corners) and catches a wrong corner', () => {
    const a = randomDense(300, 1000, 1);
    const b = randomCompressed(1000, 700, nmPattern(4, 32, 32), 2);
    const ref = referenceSpmm(a, b);
    const c = { rows: 300, cols: 700, data: Float32Array.from(ref.values) };
    const good = verifySampled(a, b, c, { maxOps: 1e5 });
    expect(good.ok).toBe(true);
    expect(good.checkedEntries).toBeGreaterThan(100);
    expect(good.checkedEntries).toBeLessThan(300 * 700);
    c.data[300 * 700 - 1] += 0.01;
    const bad = verifySampled(a, b, c, { maxOps: 1e5 });
    expect(bad.ok).toBe(false);
    expect(bad.problem).toMatch(/^C\[299\]\[699\]/);
  });
});

describe('deadline', () => {
  it('starts no work after the deadline and says it stopped early', async () => {
    const backend = wrapped((c) => c);
    const outcome = await runSuite({
      suite,
      backends: [backend],
      baselines: [backendDenseBaseline(backend)!],
      seed: 1,
      peakFor: () => undefined,
      deadline: performance.now() - 1,
    });
    expect(outcome.stoppedEarly).toBe(true);
    expect(outcome.cases).toHaveLength(0);
    expect(backend.timeCalls).toBe(0);
  });
});
