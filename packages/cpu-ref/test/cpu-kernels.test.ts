import {
  compareWithReference,
  decompress,
  type NMPattern,
  randomCompressed,
  randomDense,
  referenceDense,
  referenceSpmm,
  seededRandom,
  type TilingPlan,
} from '@nmkit/format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CpuBackend, createCpuBackend, planCpuTiling } from '../src/index.js';
import { stripColumn, stripMap, stripWidth } from '../src/kernels/strips.js';

// Random shapes, patterns and forced plans (tiny and odd cache blocks) against the float64 references, through
// both the workers and the calling thread.
const PATTERNS: NMPattern[] = [
  { keep: 8, group: 32, vectorLength: 32 },
  { keep: 4, group: 32, vectorLength: 64 },
  { keep: 3, group: 7, vectorLength: 12 },
  { keep: 2, group: 4, vectorLength: 8 },
  { keep: 2, group: 4, vectorLength: 1 },
  { keep: 5, group: 5, vectorLength: 9 },
  { keep: 1, group: 16, vectorLength: 4 },
];

// Kernel tests run the weights they are given: no widened copies (widen.test.ts runs those).
describe.each([
  ['workers', { parallelThreshold: 0, widen: 'never' }],
  ['calling thread', { threads: 1, widen: 'never' }],
] as const)('cpu kernels (%s)', (_, options) => {
  let cpu: CpuBackend;
  beforeAll(async () => {
    cpu = await createCpuBackend(options);
  });
  afterAll(() => cpu.dispose());

  const rand = seededRandom(77);
  for (let i = 0; i < 16; i++) {
    const pattern = PATTERNS[i % PATTERNS.length];
    const m = 1 + Math.floor(rand() * 45);
    const n = 1 + Math.floor(rand() * 150);
    const k = 1 + Math.floor(rand() * 300);
    const forced = i % 2 === 1;
    it(`N:M case ${i}: ${m}×${n}×${k}, ${pattern.keep}:${pattern.group}, V=${pattern.vectorLength}${forced ? ', small blocks' : ''}`, async () => {
      const a = randomDense(m, k, 500 + i);
      const b = randomCompressed(k, n, pattern, 600 + i);
      const weights = await cpu.prepare(b);
      const base = planCpuTiling({ m, n, k }, pattern, 2);
      const plan: TilingPlan | undefined = forced ? { ...base, block: { m: 4, n: pattern.vectorLength, k: pattern.group } } : undefined;
      const c = await cpu.matmul(a, weights, { plan });
      expect(compareWithReference(c.data, referenceSpmm(a, b), k).firstMismatch).toBeUndefined();
      const dense = await cpu.prepareDense(decompress(b));
      const densePlan = planCpuTiling({ m, n, k }, undefined, 2);
      const cd = await cpu.matmul(a, dense, forced ? { plan: { ...densePlan, block: { m: 8, n: 8, k: 3 } } } : {});
      expect(compareWithReference(cd.data, referenceDense(a, decompress(b)), k).firstMismatch).toBeUndefined();
      weights.dispose();
      dense.dispose();
    });
  }

  it('returns an ordinary (unshared) Float32Array', async () => {
    const b = randomCompressed(64, 64, PATTERNS[0], 1);
    const c = await cpu.matmul(randomDense(8, 64, 2), await cpu.prepare(b));
    expect(c.data).toBeInstanceOf(Float32Array);
    expect(c.data.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('overwrites reused workspaces (no stale C) and accepts A already in shared memory', async () => {
    const pattern = PATTERNS[1];
    const big = randomCompressed(256, 200, pattern, 5);
    await cpu.matmul(randomDense(60, 256, 6), await cpu.prepare(big)); // leaves large, non-zero workspaces
    const b = randomCompressed(96, 70, pattern, 7);
    const a = randomDense(9, 96, 8);
    const sharedA = { ...a, data: new Float32Array(new SharedArrayBuffer(a.data.byteLength)) };
    sharedA.data.set(a.data);
    const weights = await cpu.prepare(b);
    for (const input of [a, sharedA]) {
      const c = await cpu.matmul(input, weights);
      expect(compareWithReference(c.data, referenceSpmm(a, b), 96).firstMismatch).toBeUndefined();
    }
  });

  it('refuses a plan the kernels cannot run, naming the field', async () => {
    const b = randomCompressed(64, 64, PATTERNS[0], 1);
    const weights = await cpu.prepare(b);
    const plan = { ...planCpuTiling({ m: 8, n: 64, k: 64 }, PATTERNS[0], 2) };
    await expect(cpu.matmul(randomDense(8, 64, 2), weights, { plan: { ...plan, block: { m: 6, n: 48, k: 40 } } })).rejects.toThrow(
      /block\.m=6.*block\.n=48.*block\.k=40/,
    );
    await expect(cpu.matmul(randomDense(8, 64, 2), weights, { plan: { ...plan, thread: { m: 8, n: 8 } } })).rejects.toMatchObject({
      code: 'LIMIT',
    });
  });
});

describe('plans and weights beyond the problem or the limits', () => {
  let cpu: CpuBackend;
  beforeAll(async () => {
    cpu = await createCpuBackend({ threads: 2, parallelThreshold: 0 });
  });
  afterAll(() => cpu.dispose());

  it('runs a forced plan whose blocks exceed the problem as one block (no block-sized scratch)', async () => {
    const b = randomCompressed(64, 40, PATTERNS[0], 3);
    const a = randomDense(5, 64, 4);
    const weights = await cpu.prepare(b);
    const plan = planCpuTiling({ m: 5, n: 40, k: 64 }, PATTERNS[0], 2);
    // 2⁴⁰ rows of K per stage would ask for a 4·2³⁸-float panel if taken literally.
    const huge = { ...plan, block: { m: 4 * 2 ** 38, n: 32 * 2 ** 30, k: 32 * 2 ** 35 } };
    const c = await cpu.matmul(a, weights, { plan: huge });
    expect(compareWithReference(c.data, referenceSpmm(a, b), 64).firstMismatch).toBeUndefined();
  });

  it('refuses weights whose packed strips would pass the buffer limit, before packing them', async () => {
    // N = 1: every kept row becomes an 8-column strip, 8× the values; 2²⁶ rows × 32 B = 2³¹ B > 2³¹ − 1.
    const shape = { m: 1, n: 1, k: 2 ** 26 };
    expect(cpu.check(shape, undefined)).toMatchObject({ ok: false, reason: /packed into strips of 8 columns.*2147483648 bytes/ });
    await expect(cpu.prepareDense({ rows: 2 ** 26, cols: 1, data: new Float32Array(2 ** 26) })).rejects.toMatchObject({
      code: 'LIMIT',
      message: /weights 67108864×1: B packed into strips/,
    });
    expect(cpu.check({ m: 1, n: 8, k: 2 ** 20 }, undefined).ok).toBe(true);
  });
});

describe('planCpuTiling', () => {
  it('plans whole vectors and windows, 4×8 register tiles, enough tiles for every thread', () => {
    const pattern = { keep: 8, group: 32, vectorLength: 32 };
    const plan = planCpuTiling({ m: 1024, n: 1024, k: 1024 }, pattern, 2);
    expect(plan.block).toEqual({ m: 64, n: 256, k: 512 });
    expect(plan.thread).toEqual({ m: 4, n: 8 });
    expect(plan.variant).toBe('high-sparsity');
    const decode = planCpuTiling({ m: 1, n: 320, k: 2048 }, pattern, 4);
    expect(decode.variant).toBe('decode');
    expect(Math.ceil(320 / decode.block.n)).toBeGreaterThanOrEqual(8);
    expect(decode.block.n % 32).toBe(0);
    expect(planCpuTiling({ m: 9, n: 17, k: 5 }, undefined, 2).variant).toBe('dense');
    expect(planCpuTiling({ m: 9, n: 17, k: 8 }, { keep: 2, group: 4, vectorLength: 1 }, 2).variant).toBe('general');
  });
});

describe('strip map', () => {
  it('cuts columns into strips of ≤ 8 that never cross a vector', () => {
    const map = stripMap(100, 12); // vectors of 12: strips 8 + 4; the last vector has 4 columns
    expect(map.strips).toBe(8 * 2 + 1);
    const covered: number[] = [];
    for (let s = 0; s < map.strips; s++) {
      const col0 = stripColumn(map, s);
      const width = stripWidth(map, s);
      expect(width).toBeGreaterThan(0);
      expect(Math.floor(col0 / 12)).toBe(Math.floor((col0 + width - 1) / 12));
      for (let j = 0; j < width; j++) covered.push(col0 + j);
    }
    expect(covered).toEqual(Array.from({ length: 100 }, (_, j) => j));
  });
});
