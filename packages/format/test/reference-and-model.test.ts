import { describe, expect, it } from 'vitest';
import {
  candidatePlans,
  compareWithReference,
  DEFAULT_DEVICE_LIMITS,
  decompress,
  H100_SXM,
  nmPattern,
  performanceModel,
  planTiling,
  randomCompressed,
  randomDense,
  referenceDense,
  referenceDenseValues,
  referenceSpmm,
  referenceSpmmValues,
  ShapeError,
  sharedMemoryBytes,
} from '../src/index.js';

describe('referenceSpmm', () => {
  it('agrees with dense matmul of the decompressed weights', () => {
    for (const [keep, group, v] of [[2, 4, 1], [3, 7, 5], [8, 32, 32], [1, 1, 3]] as const) {
      const sparse = randomCompressed(45, 37, nmPattern(keep, group, v), keep * 7 + group);
      const a = randomDense(6, 45, group);
      const ref = referenceSpmm(a, sparse);
      const dense = referenceDense(a, decompress(sparse));
      for (let i = 0; i < ref.values.length; i++) expect(ref.values[i]).toBeCloseTo(dense.values[i], 10);
    }
  });
});

describe('reference values without magnitudes', () => {
  it('give the same C as the full references, and reject bad operands with typed errors before allocating', () => {
    const sparse = randomCompressed(70, 33, nmPattern(3, 7, 5), 4);
    const a = randomDense(9, 70, 5);
    expect(referenceSpmmValues(a, sparse)).toEqual(referenceSpmm(a, sparse).values);
    const dense = decompress(sparse);
    expect(referenceDenseValues(a, dense)).toEqual(referenceDense(a, dense).values);
    // A claims more rows than any array can hold: a ShapeError naming the operands, not a RangeError from new Float64Array.
    const huge = { rows: 2 ** 40, cols: 70, data: a.data };
    for (const run of [() => referenceSpmmValues(huge, sparse), () => referenceSpmm(huge, sparse), () => referenceDense(huge, dense)]) {
      expect(run).toThrow(ShapeError);
    }
  });
});

describe('referenceDense', () => {
  it('multiplies zeros of A by ±Inf and NaN of B as IEEE does (NaN), like every dense kernel', () => {
    const a = { rows: 1, cols: 2, data: Float32Array.of(0, 1) };
    const b = { rows: 2, cols: 3, data: Float32Array.of(Number.POSITIVE_INFINITY, Number.NaN, 5, 2, 2, 2) };
    expect(Array.from(referenceDense(a, b).values)).toEqual([Number.NaN, Number.NaN, 2]);
  });
});

describe('compareWithReference', () => {
  const a = randomDense(4, 64, 1);
  const sparse = randomCompressed(64, 8, nmPattern(2, 4, 4), 2);
  const ref = referenceSpmm(a, sparse);

  it('accepts float32 rounding and rejects a wrong element', () => {
    const got = Float32Array.from(ref.values);
    expect(compareWithReference(got, ref, 64).ok).toBe(true);
    got[5] += 1e-3;
    const result = compareWithReference(got, ref, 64);
    expect(result.ok).toBe(false);
    expect(result.firstMismatch?.slice(0, 2)).toEqual([0, 5]);
  });

  it('requires NaN where the reference has NaN', () => {
    const poisoned = { ...ref, values: ref.values.slice() };
    poisoned.values[0] = Number.NaN;
    const got = Float32Array.from(ref.values);
    expect(compareWithReference(got, poisoned, 64).ok).toBe(false);
    got[0] = Number.NaN;
    expect(compareWithReference(got, poisoned, 64).ok).toBe(true);
  });

  it('requires the same infinity where the reference has ±Inf', () => {
    const poisoned = { ...ref, values: ref.values.slice(), magnitudes: ref.magnitudes.slice() };
    poisoned.values[3] = Number.POSITIVE_INFINITY;
    poisoned.magnitudes[3] = Number.POSITIVE_INFINITY;
    const got = Float32Array.from(ref.values);
    for (const wrong of [0, Number.NEGATIVE_INFINITY, Number.NaN]) {
      got[3] = wrong;
      const result = compareWithReference(got, poisoned, 64);
      expect(result.ok, `got ${wrong} where +Inf is expected`).toBe(false);
      expect(result.firstMismatch?.slice(0, 4)).toEqual([0, 3, wrong, Number.POSITIVE_INFINITY]);
    }
    got[3] = Number.POSITIVE_INFINITY;
    expect(compareWithReference(got, poisoned, 64).ok).toBe(true);
    poisoned.values[3] = Number.NEGATIVE_INFINITY;
    expect(compareWithReference(got, poisoned, 64).ok).toBe(false);
    got[3] = Number.NEGATIVE_INFINITY;
    expect(compareWithReference(got, poisoned, 64).ok).toBe(true);
  });
});

describe('performance model', () => {
  it('counts effective and useful flops, and calls decode memory-bound and 4096³ compute-bound', () => {
    const decode = performanceModel({ m: 1, n: 4096, k: 4096 }, nmPattern(8, 32, 32), H100_SXM);
    expect(decode.effectiveFlops).toBe(2 * 4096 * 4096);
    expect(decode.usefulFlops).toBe(2 * 4096 * 1024);
    expect(decode.idealSpeedup).toBe(4);
    expect(decode.bound).toBe('memory');
    const big = performanceModel({ m: 4096, n: 4096, k: 4096 }, nmPattern(8, 32, 32), H100_SXM);
    expect(big.bound).toBe('compute');
    // Weight bytes: 1024 kept rows × 4096 floats + one index byte per kept row and vector.
    expect(big.bytes).toBe(4 * (4096 * 4096 * 2) + 1024 * 4096 * 4 + 1024 * 128);
  });
});

describe('tiling planner', () => {
  it('stages whole long windows in a smaller tile before falling back to the general kernel', () => {
    const limits = { ...DEFAULT_DEVICE_LIMITS, maxSharedMemoryBytes: 48 * 1024, maxThreadsPerBlock: 1024, computeUnits: 132 };
    for (const [keep, group] of [[32, 64], [48, 96], [8, 128], [1, 256]] as const) {
      const pattern = nmPattern(keep, group, 32);
      const plan = planTiling({ m: 4096, n: 4096, k: 4096 }, pattern, limits);
      expect(plan.variant).not.toBe('general'); // a 128×128 tile cannot hold a window of 64+ rows twice; 64×128 can
      expect(plan.block.k % group).toBe(0);
      expect(sharedMemoryBytes(plan, pattern)).toBeLessThanOrEqual(limits.maxSharedMemoryBytes);
    }
    // Nothing tiled fits a 256-row window of 128 kept rows in 48 KB: the general kernel, sliced.
    expect(planTiling({ m: 4096, n: 4096, k: 4096 }, nmPattern(128, 256, 32), limits).variant).toBe('general');
  });

  const h100 = { maxSharedMemoryBytes: 232448, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 132 };
  const webgpuDefault = { maxSharedMemoryBytes: 16384, maxThreadsPerBlock: 256, subgroupSize: 32, computeUnits: 16 };

  it('picks the variant from M and the density', () => {
    expect(planTiling({ m: 4096, n: 4096, k: 4096 }, nmPattern(16, 32, 32), h100).variant).toBe('low-sparsity');
    expect(planTiling({ m: 4096, n: 4096, k: 4096 }, nmPattern(4, 32, 32), h100).variant).toBe('high-sparsity');
    expect(planTiling({ m: 8, n: 4096, k: 4096 }, nmPattern(8, 32, 32), h100).variant).toBe('decode');
    expect(planTiling({ m: 64, n: 64, k: 64 }, undefined, h100).variant).toBe('dense');
  });

  it('uses large tiles for large problems and split-K for small M', () => {
    const big = planTiling({ m: 4096, n: 4096, k: 4096 }, nmPattern(8, 32, 32), h100);
    expect(big.block.m * big.block.n).toBeGreaterThanOrEqual(64 * 128);
    expect(big.splitK).toBe(1);
    const small = planTiling({ m: 32, n: 1024, k: 8192 }, nmPattern(8, 32, 32), h100);
    expect(small.splitK).toBeGreaterThan(1);
  });

  it('stages whole windows and respects shared memory on every candidate', () => {
    for (const pattern of [nmPattern(2, 4, 1), nmPattern(12, 32, 32), nmPattern(3, 7, 64), nmPattern(200, 256, 32)]) {
      for (const limits of [h100, webgpuDefault]) {
        for (const plan of candidatePlans({ m: 512, n: 512, k: 2048 }, pattern, limits)) {
          if (plan.variant === 'general') expect(plan.block.k).toBeLessThan(pattern.group);
          else expect(plan.block.k % pattern.group).toBe(0);
          expect(sharedMemoryBytes(plan, pattern)).toBeLessThanOrEqual(limits.maxSharedMemoryBytes);
          expect(plan.threads).toBeLessThanOrEqual(limits.maxThreadsPerBlock);
        }
      }
    }
  });

  it('refuses with a LimitError when nothing fits', () => {
    const tiny = { ...webgpuDefault, maxSharedMemoryBytes: 512 };
    expect(() => planTiling({ m: 512, n: 512, k: 512 }, nmPattern(200, 256, 32), tiny)).toThrow(/No tiling plan fits/);
  });
});
