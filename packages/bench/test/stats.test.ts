import { describe, expect, it } from 'vitest';
import { geometricMean, quantile, summarizeSamples } from '../src/stats.js';

describe('summarizeSamples', () => {
  it('gives the median, quartiles and spread of an odd sample regardless of order', () => {
    const s = summarizeSamples([5, 1, 4, 2, 3]);
    expect(s.medianMs).toBe(3);
    expect(s.minMs).toBe(1);
    expect(s.maxMs).toBe(5);
    expect(s.q1Ms).toBe(2);
    expect(s.q3Ms).toBe(4);
    expect(s.madMs).toBe(1);
    expect(s.relativeSpread).toBeCloseTo((4 - 2) / 2 / 3, 12);
    expect(s.count).toBe(5);
  });

  it('averages the two middle samples of an even sample and interpolates quartiles', () => {
    const s = summarizeSamples([10, 40, 20, 30]);
    expect(s.medianMs).toBe(25);
    expect(s.q1Ms).toBe(17.5);
    expect(s.q3Ms).toBe(32.5);
    expect(s.madMs).toBe(10);
  });

  it('is robust to one outlier (the median and IQR barely move)', () => {
    const s = summarizeSamples([1, 1.01, 0.99, 1.02, 0.98, 1, 50]);
    expect(s.medianMs).toBe(1);
    expect(s.relativeSpread).toBeLessThan(0.02);
    expect(s.maxMs).toBe(50);
  });

  it('has zero spread for one sample and rejects empty or non-finite samples', () => {
    expect(summarizeSamples([7]).relativeSpread).toBe(0);
    expect(() => summarizeSamples([])).toThrow(/no timing samples/);
    expect(() => summarizeSamples([1, Number.NaN])).toThrow(/not a finite/);
    expect(() => summarizeSamples([1, -2])).toThrow(/not a finite/);
  });
});

describe('quantile and geometricMean', () => {
  it('match NumPy-style linear interpolation and the geometric mean', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
    expect(quantile([0, 10], 0.9)).toBeCloseTo(9, 12);
    expect(geometricMean([1, 4])).toBeCloseTo(2, 12);
    expect(geometricMean([2, 8, 4])).toBeCloseTo(4, 12);
    expect(geometricMean([])).toBeNaN();
  });
});
