import { nmPattern, randomCompressed, randomDense, referenceSpmm } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import type { GpuWeights } from '../src/index.js';
import { expectClose, gpuBackendPerFile } from './gpu-backend.js';

// Element-wise weights (one index per column) run a widened copy (format widenVectors, V = 32) unless A holds a NaN
// or ±Inf, when the call runs again on the original weights.
const gpu = gpuBackendPerFile({});

describe('widened copies of element-wise weights', () => {
  it('keeps a copy of element-wise 2:4 under auto, none of 1:4 (four times the values) unless always, none under never', async () => {
    const backend = gpu();
    if (!backend) return;
    const twoFour = await backend.prepare(randomCompressed(64, 40, nmPattern(2, 4), 1));
    const oneFour = randomCompressed(64, 40, nmPattern(1, 4), 2);
    const auto = await backend.prepare(oneFour);
    try {
      // 2:4 over 32 columns keeps every row: the copy is the dense matrix, for the dense kernels.
      expect((twoFour as GpuWeights).wide?.kind).toBe('dense');
      // 32 kept rows × 40 columns of values and byte indices, and the copy's 64 × 40 values (4 bytes for no indices).
      expect(twoFour.bytes).toBe(32 * 40 * 5 + 64 * 40 * 4 + 4);
      expect((auto as GpuWeights).wide).toBeUndefined();
      backend.widen = 'always';
      const always = await backend.prepare(oneFour);
      expect((always as GpuWeights).wide?.kind).toBe('dense');
      always.dispose();
      expect((always as GpuWeights).wide?.disposed).toBe(true);
      backend.widen = 'never';
      const never = await backend.prepare(randomCompressed(64, 40, nmPattern(2, 4), 1));
      expect((never as GpuWeights).wide).toBeUndefined();
      never.dispose();
    } finally {
      backend.widen = 'auto';
      twoFour.dispose();
      auto.dispose();
    }
  });

  it.each([
    [40, 100, 64],
    [5, 36, 300],
    [130, 260, 96],
  ])('runs the copy at %i×%i×%i and matches the reference; check() reports the plan that runs', async (m, n, k) => {
    const backend = gpu();
    if (!backend) return;
    const sparse = randomCompressed(k, n, nmPattern(2, 4), m + n);
    const weights = await backend.prepare(sparse);
    try {
      const a = randomDense(m, k, k);
      expectClose(await backend.matmul(a, weights), referenceSpmm(a, sparse), k, `${m}×${n}×${k}`);
      const wideKernel = backend.lastKernel;
      expect((await backend.describeKernel({ m, n, k }, weights)).name).toBe(wideKernel);
      const ran = await backend.time(a, weights, { warmup: 1, repeats: 1 });
      expect(backend.check({ m, n, k }, sparse.pattern)).toEqual({ ok: true, plan: ran.plan });
    } finally {
      weights.dispose();
    }
  });

  it('reruns on the original weights when A holds a NaN or ±Inf, so pruned rows stay skipped (matmul and time)', async () => {
    const backend = gpu();
    if (!backend) return;
    const sparse = randomCompressed(64, 48, nmPattern(2, 4), 9);
    const weights = await backend.prepare(sparse);
    try {
      const a = randomDense(40, 64, 10);
      await backend.matmul(a, weights);
      const wideKernel = backend.lastKernel;
      await backend.time(a, weights, { warmup: 1, repeats: 2 });
      expect(backend.lastKernel).toBe(wideKernel);
      a.data[3 * 64 + 9] = Number.NaN;
      a.data[7 * 64 + 30] = Number.NEGATIVE_INFINITY;
      const c = await backend.matmul(a, weights);
      expectClose(c, referenceSpmm(a, sparse), 64, 'C with NaN/Inf in A');
      expect(backend.lastKernel).not.toBe(wideKernel);
      // Columns that pruned row 9 (or 30) stay finite: a widened run would have made all of row 3 (7) non-finite.
      expect(Array.from(c.data.subarray(3 * 48, 4 * 48)).some(Number.isFinite)).toBe(true);
      expect(Array.from(c.data.subarray(7 * 48, 8 * 48)).some(Number.isFinite)).toBe(true);
      await backend.time(a, weights, { warmup: 1, repeats: 2 });
      expect(backend.lastKernel).not.toBe(wideKernel);
    } finally {
      weights.dispose();
    }
  });
});
