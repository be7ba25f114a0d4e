import {
  compareWithReference,
  decompress,
  randomCompressed,
  randomDense,
  referenceDense,
  referenceSpmm,
  seededRandom,
} from '@nmkit/format';
import { describe, expect, it } from 'vitest';

const PATTERNS: [number, number][] = [[1, 2], [2, 4], [8, 32], [4, 32], [3, 7], [5, 5], [16, 32], [1, 1]];
const VECTOR_LENGTHS = [1, 3, 8, 32, 33];

describe('referenceSpmm agrees with dense matmul of the decompressed weights', () => {
  const rand = seededRandom(2024);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  for (let i = 0; i < 40; i++) {
    const [keep, group] = pick(PATTERNS);
    const vectorLength = pick(VECTOR_LENGTHS);
    const m = 1 + Math.floor(rand() * 12);
    const n = 1 + Math.floor(rand() * 70);
    const k = 1 + Math.floor(rand() * 150);
    const seed = 1000 + i;
    it(`case ${i}: ${m}×${n}×${k}, ${keep}:${group}, V=${vectorLength}`, () => {
      const a = randomDense(m, k, seed);
      const b = randomCompressed(k, n, { keep, group, vectorLength }, seed + 1);
      const sparse = referenceSpmm(a, b);
      const dense = referenceDense(a, decompress(b));
      // Both sum the same float64 products in different orders: they agree to float64 rounding.
      for (let j = 0; j < m * n; j++) {
        expect(Math.abs(sparse.values[j] - dense.values[j])).toBeLessThanOrEqual(1e-12 * (dense.magnitudes[j] + 1e-300));
        expect(sparse.magnitudes[j]).toBeCloseTo(dense.magnitudes[j], 10);
      }
      expect(compareWithReference(Float32Array.from(sparse.values), dense, k).ok).toBe(true);
    });
  }

  it('detects a wrong product (the check can fail)', () => {
    const a = randomDense(4, 64, 1);
    const b = randomCompressed(64, 40, { keep: 2, group: 4, vectorLength: 8 }, 2);
    const sparse = referenceSpmm(a, b);
    b.values[3] += 0.5; // corrupt one kept value after the sparse product
    const dense = referenceDense(a, decompress(b));
    expect(compareWithReference(Float32Array.from(sparse.values), dense, 64).ok).toBe(false);
  });
});
