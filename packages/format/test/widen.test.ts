import { describe, expect, it } from 'vitest';
import {
  decompress,
  nmPattern,
  randomCompressed,
  randomDense,
  referenceSpmmValues,
  ShapeError,
  validateCompressed,
  WIDEN_MODES,
  widenedCopy,
  widenedKeep,
  widenVectors,
} from '../src/index.js';

describe('widenVectors', () => {
  it.each([
    ['2:4 V=1', 64, 96, nmPattern(2, 4)],
    ['1:4 V=4, ragged K and N', 30, 70, nmPattern(1, 4, 4)],
    ['3:8 V=5 (vectors straddle wide ones)', 40, 77, nmPattern(3, 8, 5)],
    ['4:32 V=16', 100, 64, nmPattern(4, 32, 16)],
    ['8:32 V=32 (already wide)', 64, 64, nmPattern(8, 32, 32)],
  ])('keeps the matrix and the product: %s', (_name, k, n, pattern) => {
    const sparse = randomCompressed(k, n, pattern, 11);
    const { weights, keep, growth } = widenVectors(sparse);
    validateCompressed(weights);
    expect(weights.pattern).toEqual({ keep, group: pattern.group, vectorLength: 32 });
    expect(growth).toBe(keep / pattern.keep);
    expect(keep).toBe(widenedKeep(sparse));
    expect(Array.from(decompress(weights).data)).toEqual(Array.from(decompress(sparse).data));
    const a = randomDense(5, k, 12);
    const want = referenceSpmmValues(a, sparse);
    const got = referenceSpmmValues(a, weights);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 10);
  });

  it('takes the widest union: element-wise 2:4 over 32 columns uses every row of a window', () => {
    const sparse = randomCompressed(256, 64, nmPattern(2, 4), 3);
    expect(widenVectors(sparse).keep).toBe(4);
    expect(widenVectors(sparse).growth).toBe(2);
  });

  it('keeps one vector alone when every column keeps the same rows', () => {
    // V = 32 weights under V = 32: each wide vector is one original vector, so keep' = keep and nothing is added.
    const sparse = randomCompressed(64, 64, nmPattern(4, 32, 32), 5);
    const { weights, keep } = widenVectors(sparse);
    expect(keep).toBe(4);
    expect(Array.from(weights.indices)).toEqual(Array.from(sparse.indices));
    expect(Array.from(weights.values)).toEqual(Array.from(sparse.values));
  });

  it('pads a narrow union with the lowest unused rows, in ascending order', () => {
    // 8 rows, 1:4 with V = 1 over 2 columns: window 0 keeps rows 2 and 2 (union {2}), window 1 rows 1 and 3.
    const sparse = { rows: 8, cols: 2, pattern: nmPattern(1, 4), values: Float32Array.of(5, 6, 7, 8), indices: Uint8Array.of(2, 2, 1, 3) };
    const { weights, keep } = widenVectors(sparse);
    expect(keep).toBe(2);
    expect(Array.from(weights.indices)).toEqual([0, 2, 1, 3]); // window 0: {2} padded with 0; window 1: {1, 3}
    expect(Array.from(weights.values)).toEqual([0, 0, 5, 6, 7, 0, 0, 8]);
  });

  it('widenedCopy keeps what the mode takes, built as widenVectors builds it', () => {
    const twoFour = randomCompressed(128, 64, nmPattern(2, 4), 3);
    const oneFour = randomCompressed(128, 64, nmPattern(1, 4), 3);
    expect(WIDEN_MODES).toEqual(['auto', 'always', 'never']);
    expect(widenedCopy(twoFour, 32, 'auto')).toEqual(widenVectors(twoFour).weights);
    expect(widenedCopy(oneFour, 32, 'auto')).toBeUndefined(); // keep' 4 = 4 × keep, over the limit of 2×
    expect(widenedCopy(oneFour, 32, 'always')).toEqual(widenVectors(oneFour).weights);
    expect(widenedCopy(twoFour, 32, 'never')).toBeUndefined();
  });

  it('rejects a vector length that is not a positive integer', () => {
    const sparse = randomCompressed(8, 8, nmPattern(2, 4), 1);
    expect(() => widenVectors(sparse, 0)).toThrow(ShapeError);
    expect(() => widenedKeep(sparse, 2.5)).toThrow(/positive integer vector length/);
  });
});
