import { LimitError, nmPattern } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { cudaCandidatePlans, nativeFromTiling, planCuda, type WeightsInfo } from '../src/index.js';

const h100 = { multiprocessors: 132, sharedPerBlockOptin: 232448 };
const info = (keep: number, group: number, k: number, n: number, v = 32): WeightsInfo => {
  const pattern = nmPattern(keep, group, v);
  const keptRows = Math.ceil(k / group) * keep;
  const tiled = v % 32 === 0 ? { ks: 16, srows: 64, stages: Math.ceil(keptRows / 16), slotStride: 64 } : undefined;
  return { pattern, keptRows, ldb: Math.ceil(n / 4) * 4, tiled };
};

describe('cuda planner', () => {
  it('sends M ≤ 16 to the decode path, splitting K to fill the SMs', () => {
    const plan = planCuda({ m: 8, n: 4096, k: 4096 }, info(8, 32, 4096, 4096), h100);
    expect(plan.tiling.variant).toBe('decode');
    expect(plan.native.kernel).toBe(2);
    expect(plan.native.rowsPerBlock).toBe(8);
    expect(plan.tiling.splitK).toBeGreaterThan(1);
  });

  it('picks the high-sparsity variant at ρ ≤ ¼ and the low one above', () => {
    expect(planCuda({ m: 4096, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100).tiling.variant).toBe('high-sparsity');
    expect(planCuda({ m: 4096, n: 4096, k: 4096 }, info(16, 32, 4096, 4096), h100).tiling.variant).toBe('low-sparsity');
  });

  it('uses big tiles for big M and split-K for small M', () => {
    const big = planCuda({ m: 4096, n: 4096, k: 4096 }, info(8, 32, 4096, 4096), h100);
    expect(big.tiling.block.m).toBe(128);
    expect(big.tiling.splitK).toBe(1);
    const small = planCuda({ m: 48, n: 1024, k: 4096 }, info(8, 32, 4096, 1024), h100);
    expect(small.tiling.block.m).toBe(32);
    expect(small.tiling.splitK).toBeGreaterThan(1);
  });

  it('fills one wave with 32-row tiles and no split-K at M = 256 (measured fastest on the H100)', () => {
    const plan = planCuda({ m: 256, n: 4096, k: 4096 }, info(16, 32, 4096, 4096), h100);
    expect(plan.tiling.block.m).toBe(32);
    expect(plan.tiling.splitK).toBe(1);
    const wide = planCuda({ m: 256, n: 11008, k: 4096 }, info(16, 32, 4096, 11008), h100);
    expect(wide.tiling.block.m).toBe(64);
  });

  it('runs weights re-tiled with 32 kept rows on the wide instances only', () => {
    const shape = { m: 4096, n: 4096, k: 4096 };
    const wide: WeightsInfo = { ...info(16, 32, 4096, 4096), tiled: { ks: 32, srows: 64, stages: 64, slotStride: 128 } };
    const plan = planCuda(shape, wide, h100);
    expect(plan.tiling.block.m).toBe(128);
    expect(plan.native.stages).toBe(2);
    for (const p of cudaCandidatePlans(shape, wide, h100)) {
      if (p.native.kernel === 2) continue;
      expect([[128, 2], [64, 3], [32, 4], [32, 2]]).toContainEqual([p.native.bm, p.native.stages]);
    }
    // 32-row blocks of 4 warps keep four per SM: two stages of 24.7 KB, not four.
    expect(planCuda({ m: 256, n: 4096, k: 4096 }, wide, h100).native).toMatchObject({ bm: 32, stages: 2 });
  });

  it('uses the general streaming kernel when V is not a multiple of 32', () => {
    const plan = planCuda({ m: 300, n: 500, k: 700 }, info(2, 4, 700, 500, 1), h100);
    expect(plan.tiling.variant).toBe('general');
  });

  it('round-trips every candidate through nativeFromTiling (forced plans)', () => {
    const shape = { m: 256, n: 4096, k: 4096 };
    const weights = info(8, 32, 4096, 4096);
    const plans = cudaCandidatePlans(shape, weights, h100);
    expect(plans.length).toBeGreaterThan(4);
    for (const plan of plans) expect(nativeFromTiling(plan.tiling, weights, h100, shape).native).toEqual(plan.native);
  });

  it('refuses a forced tiled plan that was not compiled', () => {
    const shape = { m: 256, n: 4096, k: 4096 };
    const weights = info(8, 32, 4096, 4096);
    const plan = { ...planCuda(shape, weights, h100).tiling, block: { m: 96, n: 128, k: 128 } };
    expect(() => nativeFromTiling(plan, weights, h100, shape)).toThrow(LimitError);
  });
});
