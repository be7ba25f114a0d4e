import { nmPattern, validateCompressed } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { benchCompressed, benchDense } from '../src/operands.js';
import { shardOf } from '../src/run-suite.js';
import { SUITES } from '../src/suites.js';

describe('benchmark operands', () => {
  it.each([
    [100, 70, nmPattern(8, 32, 32)],
    [33, 5, nmPattern(16, 32, 32)],
    [7, 9, nmPattern(2, 4, 1)],
    [256, 300, nmPattern(1, 32, 128)],
    [64, 64, nmPattern(4, 8, 1)],
  ])('builds valid compressed %i×%i weights with pattern %o', (rows, cols, pattern) => {
    const b = benchCompressed(rows, cols, pattern, 5);
    expect(() => validateCompressed(b)).not.toThrow();
    for (const v of b.values) expect(v >= -1 && v < 1).toBe(true);
    // Kept sets vary between windows (random, not a fixed stride).
    const firsts = new Set<number>();
    for (let w = 0; w < b.indices.length; w += pattern.keep * Math.ceil(cols / pattern.vectorLength)) firsts.add(b.indices[w]);
    if (rows >= 64 && pattern.keep < pattern.group) expect(firsts.size).toBeGreaterThan(1);
  });

  it('is reproducible from the seed, and a smaller A is a prefix of a larger one', () => {
    const p = nmPattern(8, 32, 32);
    expect(benchCompressed(64, 64, p, 1).indices).toEqual(benchCompressed(64, 64, p, 1).indices);
    expect(benchCompressed(64, 64, p, 1).values).not.toEqual(benchCompressed(64, 64, p, 2).values);
    const big = benchDense(8, 16, 3);
    expect(benchDense(3, 16, 3).data).toEqual(big.data.subarray(0, 48));
    const mean = big.data.reduce((a, b) => a + b, 0) / big.data.length;
    expect(Math.abs(mean)).toBeLessThan(0.25);
  });
});

describe('shardOf', () => {
  it('splits the paper suite into contiguous, disjoint, covering slices of similar work', () => {
    const groups = [
      ...new Map(SUITES.paper.shapes.map((s) => [`${s.n}x${s.k}`, { n: s.n, k: s.k, ms: [256, 512, 1024, 2048, 4096] }])).values(),
    ].sort((a, b) => a.k - b.k);
    const shards = [1, 2, 3, 4].map((i) => shardOf(groups, i, 4));
    expect(shards.flat()).toEqual(groups);
    const work = shards.map((s) => s.reduce((sum, g) => sum + g.n * g.k, 0));
    expect(Math.max(...work) / Math.min(...work)).toBeLessThan(3);
  });
});
