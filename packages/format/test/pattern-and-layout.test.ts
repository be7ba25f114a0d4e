import { describe, expect, it } from 'vitest';
import {
  compressedLayout,
  decompress,
  density,
  NMError,
  nmPattern,
  PatternError,
  randomCompressed,
  ShapeError,
  sparsity,
  validateCompressed,
} from '../src/index.js';

describe('nmPattern', () => {
  it('accepts the paper patterns, element-wise 2:4 and keep = group', () => {
    expect(nmPattern(8, 32, 32)).toEqual({ keep: 8, group: 32, vectorLength: 32 });
    expect(density(nmPattern(2, 4))).toBe(0.5);
    expect(sparsity(nmPattern(4, 32, 32))).toBe(0.875);
    expect(nmPattern(5, 5).keep).toBe(5);
  });

  it.each([
    [0, 4, 1, 'keep'],
    [5, 4, 1, 'keep'],
    [1, 0, 1, 'group'],
    [1, 257, 1, 'group'],
    [1.5, 4, 1, 'keep'],
    [2, 4, 0, 'vectorLength'],
  ])('rejects keep=%s group=%s V=%s naming %s', (keep, group, v, field) => {
    expect(() => nmPattern(keep, group, v)).toThrow(PatternError);
    expect(() => nmPattern(keep, group, v)).toThrow(field);
  });
});

describe('compressedLayout', () => {
  it('pads K up to whole windows and keeps N exact', () => {
    const layout = compressedLayout(70, 100, nmPattern(8, 32, 32));
    expect(layout).toMatchObject({ windows: 3, paddedRows: 96, keptRows: 24, vectors: 4 });
    expect(layout.valuesLength).toBe(24 * 100);
    expect(layout.indicesLength).toBe(24 * 4);
  });

  it('rejects empty matrices', () => {
    expect(() => compressedLayout(0, 4, nmPattern(2, 4))).toThrow(ShapeError);
  });
});

describe('validateCompressed', () => {
  const base = () => randomCompressed(40, 10, nmPattern(2, 8, 4), 5);

  it('accepts what randomCompressed builds, including a short last window', () => {
    expect(() => validateCompressed(base())).not.toThrow();
    expect(() => validateCompressed(randomCompressed(5, 3, nmPattern(6, 8, 2), 6))).not.toThrow();
  });

  it('names the window and vector of an out-of-range index', () => {
    const m = base();
    m.indices[3 * 3 + 1] = 8; // kept row 3 = window 1, vector 1
    expect(() => validateCompressed(m)).toThrow(/window 1 .*vector 1/);
  });

  it('rejects indices that are not strictly ascending', () => {
    const m = base();
    m.indices[3] = m.indices[0]; // second kept row of window 0, vector 0 equals the first
    expect(() => validateCompressed(m)).toThrow(/ascending/);
  });

  it('rejects non-zero values selected from K padding', () => {
    const m = randomCompressed(5, 3, nmPattern(6, 8, 3), 7);
    // Window 0 has 5 real rows, so the 6th kept row points into padding.
    m.values[5 * 3 + 1] = 1;
    expect(() => validateCompressed(m)).toThrow(/padding/);
  });

  it('rejects wrong array types and lengths with a typed error', () => {
    const m = base();
    expect(() => validateCompressed({ ...m, values: m.values.subarray(1) })).toThrow(/values have/);
    expect(() => validateCompressed({ ...m, indices: new Uint16Array(m.indices.length) as never })).toThrow(/Uint8Array/);
    try {
      validateCompressed({ ...m, pattern: { keep: 4, group: 8, vectorLength: 4 } });
    } catch (error) {
      expect(NMError.isInstance(error)).toBe(true);
      expect((error as NMError).code).toBe('FORMAT');
    }
  });

  it('decompress keeps exactly keep rows per window and vector', () => {
    const m = base();
    const dense = decompress(m);
    for (let window = 0; window < 5; window++) {
      for (let c = 0; c < 10; c++) {
        let nonZero = 0;
        for (let r = window * 8; r < window * 8 + 8; r++) nonZero += dense.data[r * 10 + c] !== 0 ? 1 : 0;
        expect(nonZero).toBeLessThanOrEqual(2);
      }
    }
  });
});
