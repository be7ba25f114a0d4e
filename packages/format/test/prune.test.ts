import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compressWithMask,
  decompress,
  MaskError,
  maskOf,
  nmPattern,
  pruneByMagnitude,
  randomDense,
  validateCompressed,
} from '../src/index.js';

describe('pruneByMagnitude', () => {
  it('keeps the rows with the largest summed magnitude per window and vector', () => {
    // 8×2, 2:4, V=2: window 0 scores rows as [3, 10, 1, 7] → keeps rows 1 and 3; window 1 → [0, 0, 5, 5] → 6, 7.
    const b = {
      rows: 8,
      cols: 2,
      data: Float32Array.of(1, 2, -5, 5, 1, 0, 3, -4, 0, 0, 0, 0, 5, 0, 0, -5),
    };
    const sparse = pruneByMagnitude(b, nmPattern(2, 4, 2));
    expect(Array.from(sparse.indices)).toEqual([1, 3, 2, 3]);
    expect(Array.from(sparse.values)).toEqual([-5, 5, 3, -4, 5, 0, 0, -5]);
  });

  it('breaks ties toward the lower row, deterministically', () => {
    const b = { rows: 4, cols: 1, data: Float32Array.of(1, -1, 1, -1) };
    expect(Array.from(pruneByMagnitude(b, nmPattern(2, 4)).indices)).toEqual([0, 1]);
  });

  it('never drops a NaN row', () => {
    const b = { rows: 4, cols: 1, data: Float32Array.of(9, Number.NaN, 8, 0) };
    expect(Array.from(pruneByMagnitude(b, nmPattern(1, 4)).indices)).toEqual([1]);
  });

  it('prefers real rows over K padding, and pads a short window with zero rows', () => {
    const b = { rows: 6, cols: 1, data: Float32Array.of(0, 0, 0, 0, 0, 0) };
    const sparse = pruneByMagnitude(b, nmPattern(3, 4));
    expect(Array.from(sparse.indices)).toEqual([0, 1, 2, 0, 1, 2]);
    validateCompressed(sparse);
  });

  it('round-trips through its mask (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (keepRaw, group, rows, cols, v, seed) => {
          const pattern = nmPattern(Math.min(keepRaw, group), group, v);
          const b = randomDense(rows, cols, seed);
          const sparse = pruneByMagnitude(b, pattern);
          validateCompressed(sparse);
          const mask = maskOf(sparse);
          const again = compressWithMask(b, mask, pattern);
          expect(again.values).toEqual(sparse.values);
          expect(again.indices).toEqual(sparse.indices);
          // Decompressed = B where the mask is 1, 0 elsewhere.
          const dense = decompress(sparse).data;
          for (let i = 0; i < dense.length; i++) expect(dense[i]).toBe(mask[i] ? b.data[i] : 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('compressWithMask', () => {
  const b = randomDense(8, 4, 3);

  it('names the first window and vector with too many kept rows', () => {
    const mask = new Uint8Array(32);
    for (let c = 0; c < 4; c++) mask[c] = mask[4 + c] = 1; // window 0: rows 0, 1
    for (let c = 0; c < 4; c++) mask[16 + c] = mask[20 + c] = mask[24 + c] = 1; // window 1: three rows
    try {
      compressWithMask(b, mask, nmPattern(2, 4, 4));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MaskError);
      expect((error as MaskError).window).toBe(1);
      expect((error as MaskError).vector).toBe(0);
      expect((error as Error).message).toMatch(/window 1 \(rows 4–7\), vector 0/);
    }
  });

  it('rejects a selection that differs inside a vector', () => {
    const mask = new Uint8Array(32);
    for (let c = 0; c < 4; c++) mask[c] = mask[4 + c] = mask[16 + c] = mask[20 + c] = 1;
    mask[1] = 0;
    mask[8 + 1] = 1; // column 1 keeps row 2 instead of row 0
    expect(() => compressWithMask(b, mask, nmPattern(2, 4, 2))).toThrow(/same rows/);
  });

  it('rejects too few kept rows, wrong lengths and non-binary entries', () => {
    expect(() => compressWithMask(b, new Uint8Array(32), nmPattern(2, 4))).toThrow(/keeps 0/);
    expect(() => compressWithMask(b, new Uint8Array(31), nmPattern(2, 4))).toThrow(/31 entries/);
    const bad = new Array(32).fill(2);
    expect(() => compressWithMask(b, bad, nmPattern(2, 4))).toThrow(/0\/1/);
  });
});
