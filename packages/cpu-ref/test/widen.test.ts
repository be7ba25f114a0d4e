import { BackendUnavailableError, nmPattern, randomCompressed, randomDense, referenceSpmm, compareWithReference } from '@nmkit/format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CpuBackend, createCpuBackend } from '../src/index.js';

// Weights with V < 8 run a widened copy (format widenVectors, V = 8; dense where it keeps every row) while A is
// finite; a NaN or ±Inf in A runs the original, which skips pruned rows.
describe('cpu: widened copies of weights with V < 8', () => {
  let cpu: CpuBackend;
  beforeAll(async () => {
    cpu = await createCpuBackend({ threads: 2, parallelThreshold: 0 });
  });
  afterAll(() => cpu.dispose());

  const close = (got: Float32Array, ref: ReturnType<typeof referenceSpmm>, k: number) => expect(compareWithReference(got, ref, k).firstMismatch).toBeUndefined();

  it('keeps a dense copy of element-wise 2:4 (8 columns use every row), none of 1:4 under auto, and counts its bytes', async () => {
    const twoFour = await cpu.prepare(randomCompressed(64, 40, nmPattern(2, 4), 1));
    const oneFour = await cpu.prepare(randomCompressed(64, 40, nmPattern(1, 4), 2));
    try {
      expect(twoFour.wide?.kind).toBe('dense');
      expect(twoFour.wide!.bytes).toBeGreaterThanOrEqual(64 * 40 * 4);
      expect(oneFour.wide).toBeUndefined();
      expect(cpu.check({ m: 32, n: 40, k: 64 }, nmPattern(2, 4))).toMatchObject({ ok: true, plan: { variant: 'dense' } });
    } finally {
      twoFour.dispose();
      oneFour.dispose();
      expect(twoFour.wide?.disposed).toBe(true);
    }
  });

  it.each([
    [33, 70, 96, nmPattern(2, 4)],
    [5, 17, 130, nmPattern(4, 8, 3)],
  ])('matches the reference at %i×%i×%i (%o), and time() runs', async (m, n, k, pattern) => {
    const sparse = randomCompressed(k, n, pattern, m);
    const w = await cpu.prepare(sparse);
    try {
      expect(w.wide).toBeDefined();
      const a = randomDense(m, k, n);
      close((await cpu.matmul(a, w)).data, referenceSpmm(a, sparse), k);
      expect((await cpu.time(a, w, { warmup: 0, repeats: 1 })).medianMs).toBeGreaterThan(0);
    } finally {
      w.dispose();
    }
  });

  it('runs the original when A holds a NaN or ±Inf: columns that pruned those rows stay finite', async () => {
    const sparse = randomCompressed(64, 48, nmPattern(2, 4), 9);
    const w = await cpu.prepare(sparse);
    try {
      const a = randomDense(20, 64, 10);
      a.data[3 * 64 + 9] = Number.NaN;
      a.data[7 * 64 + 30] = Number.NEGATIVE_INFINITY;
      const c = await cpu.matmul(a, w);
      close(c.data, referenceSpmm(a, sparse), 64);
      expect(Array.from(c.data.subarray(3 * 48, 4 * 48)).some(Number.isFinite)).toBe(true);
      expect(Array.from(c.data.subarray(3 * 48, 4 * 48)).some(Number.isNaN)).toBe(true);
    } finally {
      w.dispose();
    }
  });

  it('keeps no copy under never, one of 1:4 under always; an unknown mode is refused', async () => {
    const never = await createCpuBackend({ threads: 1, widen: 'never' });
    const always = await createCpuBackend({ threads: 1, widen: 'always' });
    try {
      const sparse = randomCompressed(64, 40, nmPattern(2, 4), 1);
      const without = await never.prepare(sparse);
      const withCopy = await cpu.prepare(sparse);
      expect(without.wide).toBeUndefined();
      expect(withCopy.bytes).toBe(without.bytes + withCopy.wide!.bytes);
      expect((await always.prepare(randomCompressed(64, 40, nmPattern(1, 4), 2))).wide?.kind).toBe('dense');
    } finally {
      await never.dispose();
      await always.dispose();
    }
    await expect(createCpuBackend({ widen: 'sometimes' as 'auto' })).rejects.toThrow(BackendUnavailableError);
  });
});
