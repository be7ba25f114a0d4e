import { nmPattern, randomCompressed } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { WIDE_MIN_ROWS, WIDEN_MAX_GROWTH, widenedCopyFor, widenedPatternBound } from '../src/index.js';

describe('widening short-vector weights for the tiled kernels', () => {
  const elementwise24 = randomCompressed(128, 64, nmPattern(2, 4), 7);
  const elementwise14 = randomCompressed(128, 64, nmPattern(1, 4), 7);

  it('widens element-wise 2:4 under auto (keep 4: twice the values) but not 1:4 (four times)', () => {
    expect(WIDEN_MAX_GROWTH).toBe(2);
    expect(widenedCopyFor(elementwise24, 'auto')?.pattern).toEqual(nmPattern(4, 4, 32));
    expect(widenedCopyFor(elementwise14, 'auto')).toBeUndefined();
    expect(widenedCopyFor(elementwise14, 'always')?.pattern).toEqual(nmPattern(4, 4, 32));
  });

  it('never widens under never, nor weights the tiled kernels already take (V a multiple of 32)', () => {
    expect(widenedCopyFor(elementwise24, 'never')).toBeUndefined();
    expect(widenedCopyFor(randomCompressed(128, 64, nmPattern(2, 4, 32), 7), 'always')).toBeUndefined();
  });

  it('bounds the widened pattern from the pattern alone, for check(), above the decode rows only', () => {
    const big = { m: 256, n: 4096, k: 4096 };
    expect(widenedPatternBound(big, nmPattern(2, 4), 'auto')).toEqual(nmPattern(4, 4, 32));
    expect(widenedPatternBound(big, nmPattern(16, 32), 'auto')).toEqual(nmPattern(32, 32, 32));
    // V = 16: a warp's 32 columns meet two vectors, so at most 2 · 8 of 32 rows.
    expect(widenedPatternBound(big, nmPattern(8, 32, 16), 'auto')).toEqual(nmPattern(16, 32, 32));
    // V = 12 straddles: columns 32–63 meet vectors 2, 3, 4 and 5.
    expect(widenedPatternBound(big, nmPattern(2, 32, 12), 'always')).toEqual(nmPattern(8, 32, 32));
    expect(widenedPatternBound(big, nmPattern(1, 4), 'auto')).toBeUndefined();
    expect(widenedPatternBound(big, nmPattern(1, 4), 'always')).toEqual(nmPattern(4, 4, 32));
    expect(widenedPatternBound({ ...big, m: WIDE_MIN_ROWS }, nmPattern(2, 4), 'auto')).toBeUndefined();
    expect(widenedPatternBound(big, nmPattern(2, 4, 32), 'always')).toBeUndefined();
    expect(widenedPatternBound(big, nmPattern(2, 4), 'never')).toBeUndefined();
  });
});
