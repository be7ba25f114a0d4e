import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compressPruned,
  compressWithMask,
  decompress,
  denseMatrix,
  MaskError,
  maskOf,
  nmPattern,
  pruneByMagnitude,
  randomDense,
  ShapeError,
  transposeDense,
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

describe('compressPruned', () => {
  it('compresses already-pruned weights losslessly, with the same selection pruning made (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom([1, 4, 1], [2, 4, 1], [2, 4, 4], [3, 7, 2], [8, 32, 32], [4, 8, 3]),
        fc.integer({ min: 1, max: 1000 }),
        (rows, cols, [keep, group, v], seed) => {
          const pattern = nmPattern(keep, group, v);
          const original = pruneByMagnitude(randomDense(rows, cols, seed), pattern);
          const pruned = decompress(original);
          const again = compressPruned(pruned, pattern);
          validateCompressed(again);
          expect(again.indices).toEqual(original.indices);
          expect(again.values).toEqual(original.values);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('makes up a window with fewer nonzero rows from its lowest zero rows, K padding last', () => {
    // 6×1, 2:4: window 0 has one nonzero row (2) → rows 0 and 2; window 1 (rows 4–5, padded) is all zero → 0, 1.
    const b = denseMatrix(6, 1, Float32Array.of(0, 0, 5, 0, 0, 0));
    const sparse = compressPruned(b, nmPattern(2, 4));
    expect(Array.from(sparse.indices)).toEqual([0, 2, 0, 1]);
    expect(Array.from(sparse.values)).toEqual([0, 5, 0, 0]);
    // 5×1, 3:4: the short last window (row 4) keeps its real row, then K padding.
    const ragged = compressPruned(denseMatrix(5, 1, Float32Array.of(1, 2, 3, 0, 7)), nmPattern(3, 4));
    expect(Array.from(ragged.indices)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(decompress(ragged).data).toEqual(Float32Array.of(1, 2, 3, 0, 7));
  });

  it('refuses weights with more nonzero rows than the pattern keeps, naming the window, vector and rows', () => {
    // 8×4, 2:4 V=2: vector 1 (columns 2–3) of window 1 has nonzeros in rows 4, 6 and 7; a NaN counts as nonzero.
    const data = new Float32Array(32);
    data[0] = data[4] = 1; // window 0: rows 0, 1
    data[16 + 2] = 1;
    data[24 + 3] = Number.NaN;
    data[28 + 2] = -2;
    try {
      compressPruned(denseMatrix(8, 4, data), nmPattern(2, 4, 2));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MaskError);
      expect((error as MaskError).window).toBe(1);
      expect((error as MaskError).vector).toBe(1);
      expect((error as Error).message).toMatch(/window 1 \(rows 4–7\), vector 1 \(columns 2–3\) has nonzeros in 3 rows \(4, 6, 7\)/);
      expect((error as Error).message).toMatch(/transposeDense/);
    }
  });

  it('treats -0 as zero', () => {
    const sparse = compressPruned(denseMatrix(4, 1, Float32Array.of(-0, 3, -0, -0)), nmPattern(1, 4));
    expect(Array.from(sparse.indices)).toEqual([1]);
  });
});

describe('transposeDense', () => {
  it('turns an out × in weight into K×N', () => {
    const w = denseMatrix(2, 3, Float32Array.of(1, 2, 3, 4, 5, 6));
    const t = transposeDense(w);
    expect([t.rows, t.cols]).toEqual([3, 2]);
    expect(Array.from(t.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('round-trips across tile edges', () => {
    const m = randomDense(70, 33, 5);
    expect(transposeDense(transposeDense(m))).toEqual(m);
    const t = transposeDense(m);
    expect(t.data[17 * 70 + 65]).toBe(m.data[65 * 33 + 17]);
  });

  it('validates its operand', () => {
    expect(() => transposeDense({ rows: 2, cols: 2, data: new Float32Array(3) })).toThrow(ShapeError);
  });
});
