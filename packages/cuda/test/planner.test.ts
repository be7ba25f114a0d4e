import { LimitError, nmPattern } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { cudaCandidatePlans, MAX_DIMENSION, nativeFromTiling, planCuda, type WeightsInfo } from '../src/index.js';

const h100 = { multiprocessors: 132, sharedPerBlockOptin: 232448 };
const info = (keep: number, group: number, k: number, n: number, v = 32): WeightsInfo => {
  const pattern = nmPattern(keep, group, v);
  const keptRows = Math.ceil(k / group) * keep;
  const tiled = v % 32 === 0 ? { ks: 16, srows: 64, stages: Math.ceil(keptRows / 16), slotStride: 64 } : undefined;
  return { pattern, keptRows, ldb: Math.ceil(n / 4) * 4, tiled };
};

describe('cuda planner', () => {
  it('declares a largest dimension whose strides and row offsets fit the addon\'s 32-bit arithmetic', () => {
    const widestLda = Math.ceil(MAX_DIMENSION / 16) * 16; // the narrow kernel pads Aᵀ rows to MT = 16
    expect(widestLda * 4).toBeLessThan(2 ** 32); // TiledArgs.ldaBytes is a uint32
    expect(MAX_DIMENSION + 65535 * 128).toBeLessThan(2 ** 31); // forEachRowRange's next offset, an int
    const ldb = Math.ceil(MAX_DIMENSION / 4) * 4;
    expect(7 * ldb + (ldb - 4)).toBeLessThan(2 ** 31); // the tiled kernel's B copy offset (tid / 32) · ldb + column, an int
  });

  it('sends M ≤ 16 to the narrow decode kernel with K whole while the columns fill the SMs', () => {
    for (const m of [1, 4, 8, 16]) {
      const plan = planCuda({ m, n: 4096, k: 4096 }, info(8, 32, 4096, 4096), h100);
      expect(plan.tiling.variant).toBe('decode');
      expect(plan.tiling.block.n).toBe(32);
      expect(plan.native).toMatchObject({ kernel: 4, splitK: 1, rowsPerBlock: m });
    }
    // Few columns: K is split so that every SM gets about one block.
    expect(planCuda({ m: 1, n: 512, k: 4096 }, info(8, 32, 4096, 512), h100).tiling.splitK).toBeGreaterThan(4);
    // From 8 rows on grids above one block per SM the gather reads Aᵀ.
    expect(planCuda({ m: 8, n: 11008, k: 4096 }, info(4, 32, 4096, 11008), h100).native.kernel).toBe(5);
    expect(planCuda({ m: 4, n: 11008, k: 4096 }, info(4, 32, 4096, 11008), h100).native.kernel).toBe(4);
    // On a device matrix Aᵀ is kept (no transpose per call), so from 8 rows the gather reads it on any grid.
    expect(planCuda({ m: 8, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100).native.kernel).toBe(4);
    expect(planCuda({ m: 8, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100, 'device-matrix').native.kernel).toBe(5);
    expect(planCuda({ m: 4, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100, 'device-matrix').native.kernel).toBe(4);
    const forced = planCuda({ m: 8, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100).tiling;
    expect(nativeFromTiling(forced, info(4, 32, 4096, 4096), h100, { m: 8, n: 4096, k: 4096 }, 'device-matrix').native.kernel).toBe(5);
    // Blocks of 4 warps where 8-warp blocks need more than one wave (344 column blocks > 2 × 132), up to 8 rows.
    expect(planCuda({ m: 8, n: 11008, k: 4096 }, info(4, 32, 4096, 11008), h100)).toMatchObject({ tiling: { threads: 128 }, native: { slices: 4 } });
    expect(planCuda({ m: 1, n: 11008, k: 4096 }, info(4, 32, 4096, 11008), h100).native.slices).toBe(4);
    expect(planCuda({ m: 8, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100)).toMatchObject({ tiling: { threads: 256 }, native: { slices: 8 } });
    expect(planCuda({ m: 16, n: 11008, k: 4096 }, info(4, 32, 4096, 11008), h100).native.slices).toBe(8);
    // 9-16 rows at density > 1/4 on grids above two blocks per SM: the 32-row tile first, the narrow plans after.
    const plans = cudaCandidatePlans({ m: 16, n: 11008, k: 4096 }, info(16, 32, 4096, 11008), h100);
    expect(plans[0].native).toMatchObject({ bm: 32, wm: 32, splitK: 4 });
    expect(plans.some((p) => p.native.kernel === 5)).toBe(true);
  });

  it('keeps the streaming and 32-row tile decode plans as candidates, and streams when V is not a multiple of 32', () => {
    for (const m of [1, 5, 8, 16]) {
      const plans = cudaCandidatePlans({ m, n: 4096, k: 4096 }, info(8, 32, 4096, 4096), h100);
      expect(plans.some((p) => p.native.kernel === 2)).toBe(true);
      expect(plans.some((p) => p.native.bm === 32)).toBe(true);
    }
    // The tile's decode plan: two K slices (8 warps) while the grid gives at most two blocks per SM.
    const tile = (n: number) => cudaCandidatePlans({ m: 8, n, k: 4096 }, info(8, 32, 4096, n), h100).find((p) => p.native.bm === 32)!;
    expect(tile(4096).native).toMatchObject({ splitK: 4, stages: 3, slices: 2 });
    expect(tile(11008).native.slices).toBe(1);
    // Without a tiled path (V = 1) every decode plan streams.
    const general = planCuda({ m: 8, n: 512, k: 512 }, info(2, 4, 512, 512, 1), h100);
    expect(general.tiling.variant).toBe('decode');
    expect(general.native.kernel).toBe(2);
  });

  it('picks the high-sparsity variant at ρ ≤ ¼ and the low one above', () => {
    expect(planCuda({ m: 4096, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100).tiling.variant).toBe('high-sparsity');
    expect(planCuda({ m: 4096, n: 4096, k: 4096 }, info(16, 32, 4096, 4096), h100).tiling.variant).toBe('low-sparsity');
  });

  // Block rows and split-K by shape: big tiles for big M, 32-row tiles without split-K while one wave holds the grid
  // (measured fastest on the H100 at 256×4096×4096), 64-row tiles when it does not, split-K only for tiny grids.
  const tileCases: [string, number, number, number, number, number, number][] = [
    // name, M, N, K, keep, block rows, split-K (0: more than 1)
    ['4096³ 8:32', 4096, 4096, 4096, 8, 128, 1],
    ['256×4096² 16:32', 256, 4096, 4096, 16, 32, 1],
    ['256×11008×4096 16:32', 256, 11008, 4096, 16, 64, 1],
    ['48×1024×4096 8:32', 48, 1024, 4096, 8, 32, 0],
  ];
  for (const [name, m, n, k, keep, rows, split] of tileCases) {
    it(`picks ${rows}-row tiles${split ? ' without split-K' : ' and split-K'} for ${name}`, () => {
      const plan = planCuda({ m, n, k }, info(keep, 32, k, n), h100);
      expect(plan.tiling.block.m).toBe(rows);
      if (split) expect(plan.tiling.splitK).toBe(split);
      else expect(plan.tiling.splitK).toBeGreaterThan(1);
    });
  }

  it('slices K in two for 16-kept-row stages on small grids only', () => {
    expect(planCuda({ m: 256, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100).native).toMatchObject({ bm: 32, slices: 2 });
    expect(planCuda({ m: 256, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100).tiling.threads).toBe(256);
    const wide: WeightsInfo = { ...info(16, 32, 4096, 4096), tiled: { ks: 32, srows: 64, stages: 64, slotStride: 128 } };
    expect(planCuda({ m: 256, n: 4096, k: 4096 }, wide, h100).native).toMatchObject({ bm: 32, slices: 1 });
    expect(planCuda({ m: 4096, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), h100).native.slices).toBe(1);
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

  describe('with cluster split-K (sm_90)', () => {
    const hopper = { ...h100, clusters: true };
    const wide = (k: number, n: number): WeightsInfo => ({ ...info(16, 32, k, n), tiled: { ks: 32, srows: 64, stages: (k / 32) * 16 / 32, slotStride: 128 } });
    // Measured on the H100: the plans the cost model picks, and the times (07de0fb, results/cluster-split-k-07de0fb/;
    // 256×4096² at 0395b63, results/confirm-0395b63/).
    it('keeps whole-K 128-row tiles when the grid fills the GPU (4096³ 16:32: 1.551 ms, split 2 1.558)', () => {
      expect(planCuda({ m: 4096, n: 4096, k: 4096 }, wide(4096, 4096), hopper).native).toMatchObject({ bm: 128, splitK: 1, cluster: 0 });
    });
    it('splits 128-row tiles in a cluster until every block slot is busy (256×4096² 16:32: split 4 0.110 ms, split 2 0.113, 32-row tiles 0.124)', () => {
      expect(planCuda({ m: 256, n: 4096, k: 4096 }, wide(4096, 4096), hopper).native).toMatchObject({ bm: 128, splitK: 4, cluster: 1 });
    });
    it('splits to even out the waves (1024×5120² 16:32: 320 tiles, 1.2 waves; split 2 0.611 ms, whole K 0.720)', () => {
      expect(planCuda({ m: 1024, n: 5120, k: 5120 }, wide(5120, 5120), hopper).native).toMatchObject({ bm: 128, splitK: 2, cluster: 1 });
    });
    it('counts clusters of eight 128-row blocks as filling 240 of the 264 slots (128×4096×11008 16:32: 32-row split 4 0.156 ms, 128-row split 8 0.202)', () => {
      // The model before this rule picked 128-row split 8: 256 blocks, one wave of 264 slots but two of 240.
      expect(planCuda({ m: 128, n: 4096, k: 11008 }, wide(11008, 4096), hopper).native).toMatchObject({ bm: 32, splitK: 4, cluster: 1 });
      expect(planCuda({ m: 512, n: 6656, k: 17920 }, wide(17920, 6656), hopper).native).toMatchObject({ bm: 128, splitK: 4, cluster: 1 });
    });
    it('reduces with atomics on devices without clusters, and forced split-K plans follow the device', () => {
      const shape = { m: 256, n: 4096, k: 4096 };
      const plan = { ...planCuda(shape, wide(4096, 4096), hopper).tiling };
      expect(nativeFromTiling(plan, wide(4096, 4096), hopper, shape).native.cluster).toBe(1);
      expect(nativeFromTiling(plan, wide(4096, 4096), h100, shape).native.cluster).toBe(0);
      expect(cudaCandidatePlans(shape, wide(4096, 4096), h100).every((p) => p.native.cluster === 0)).toBe(true);
    });
    it('runs 16 decode rows over wide weights on the 32-row tile at every density (16×11008 4:32: 0.023 vs 0.025 ms)', () => {
      expect(planCuda({ m: 16, n: 11008, k: 4096 }, info(4, 32, 4096, 11008), hopper).native).toMatchObject({ bm: 32, splitK: 4, cluster: 1 });
      expect(planCuda({ m: 16, n: 4096, k: 4096 }, info(4, 32, 4096, 4096), hopper).native.kernel).toBe(4);
    });
    it('never asks a cluster for more than 8 splits', () => {
      for (const p of cudaCandidatePlans({ m: 64, n: 256, k: 8192 }, info(4, 32, 8192, 256), hopper)) {
        if (p.native.cluster) expect(p.native.splitK).toBeLessThanOrEqual(8);
      }
    });
  });

  it('uses the general streaming kernel when V is not a multiple of 32', () => {
    const plan = planCuda({ m: 300, n: 500, k: 700 }, info(2, 4, 700, 500, 1), h100);
    expect(plan.tiling.variant).toBe('general');
  });

  it('round-trips every candidate through nativeFromTiling (forced plans)', () => {
    const weights = info(8, 32, 4096, 4096);
    for (const shape of [{ m: 256, n: 4096, k: 4096 }, { m: 8, n: 4096, k: 4096 }]) {
      const plans = cudaCandidatePlans(shape, weights, h100);
      expect(plans.length).toBeGreaterThan(4);
      for (const plan of plans) expect(nativeFromTiling(plan.tiling, weights, h100, shape).native).toEqual(plan.native);
    }
  });

  it('refuses a forced tiled plan that was not compiled', () => {
    const shape = { m: 256, n: 4096, k: 4096 };
    const weights = info(8, 32, 4096, 4096);
    const plan = { ...planCuda(shape, weights, h100).tiling, block: { m: 96, n: 128, k: 128 } };
    expect(() => nativeFromTiling(plan, weights, h100, shape)).toThrow(LimitError);
  });

  it('refuses a forced narrow decode plan for more than 16 rows or V not a multiple of 32, naming both', () => {
    const narrow = planCuda({ m: 8, n: 4096, k: 4096 }, info(8, 32, 4096, 4096), h100).tiling;
    expect(() => nativeFromTiling(narrow, info(8, 32, 4096, 4096), h100, { m: 64, n: 4096, k: 4096 })).toThrow(/M = 64/);
    expect(() => nativeFromTiling(narrow, info(2, 4, 512, 512, 1), h100, { m: 8, n: 512, k: 512 })).toThrow(/V=1/);
    // Warps per block: 8 or 4 (threads 256 or 128), anything else named.
    const shape = { m: 8, n: 4096, k: 4096 };
    expect(nativeFromTiling({ ...narrow, threads: 128 }, info(8, 32, 4096, 4096), h100, shape).native.slices).toBe(4);
    expect(() => nativeFromTiling({ ...narrow, threads: 96 }, info(8, 32, 4096, 4096), h100, shape)).toThrow(/threads = 96/);
  });
});
