import {
  candidatePlans,
  planTiling,
  type MatmulShape,
  type NMPattern,
  randomCompressed,
  randomDense,
  referenceDense,
  referenceSpmm,
  type TilingPlan,
} from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import {
  backendPlan,
  backendPlans,
  buildUnionRows,
  type KernelOptions,
  kernelSpec,
  knownComputeUnits,
  pipelineKey,
  planStageKept,
  type SlotLayout,
  decodeSplitK,
  fillSplitK,
  vectorTileTail,
  waveSplitK,
  waveTail,
  windowPartKept,
  workgroupsPerUnit,
} from '../src/index.js';
import { expectClose, expectPoisonHarmless, gpuBackendPerFile } from './gpu-backend.js';

// Every kernel variant, forced through explicit plans, on ragged shapes: each result is checked against the
// float64 reference. The conformance suite only sees the planner's choices; this sees every branch.
const gpu = gpuBackendPerFile();

const limits = () => ({ maxSharedMemoryBytes: 32768, maxThreadsPerBlock: 256, subgroupSize: 8, computeUnits: 16 });

/** Runs one product (with `options` as the backend's kernel options, reset afterwards) and returns the kernel's name. */
async function runSparse(shape: MatmulShape, pattern: NMPattern, plan: TilingPlan | undefined, seed: number, options: KernelOptions = {}) {
  const backend = gpu();
  const a = randomDense(shape.m, shape.k, seed);
  const sparse = randomCompressed(shape.k, shape.n, pattern, seed + 1);
  const weights = await backend!.prepare(sparse);
  backend!.kernelOptions = options;
  try {
    const c = await backend!.matmul(a, weights, plan ? { plan } : {});
    expectClose(c, referenceSpmm(a, sparse), shape.k, `${shape.m}×${shape.n}×${shape.k} ${JSON.stringify(pattern)}`);
    return backend!.lastKernel ?? '';
  } finally {
    backend!.kernelOptions = {};
    weights.dispose();
  }
}

const withSplit = (plan: TilingPlan, splitK: number): TilingPlan => ({ ...plan, splitK });

/** A forced register-prefetched plan, unsplit: the planner's first plan with this variant, block and invocation tile. */
function forcedPlan(shape: MatmulShape, pattern: NMPattern, variant: TilingPlan['variant'], block: TilingPlan['block'], thread: TilingPlan['thread']): TilingPlan {
  const base = candidatePlans(shape, pattern, limits())[0];
  const threads = (block.m / thread.m) * (block.n / thread.n);
  return { ...base, variant, block, thread, threads, splitK: 1, stages: 2 };
}

describe('backendPlan: the defaults measured on the H100', () => {
  const h100 = { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 };
  // The tiles of N:M problems without one-vector tiles (V not a multiple of 32, density > ½, or `vectorTiles: false`);
  // the one-vector tiles have their own describe below.
  const plan = (shape: MatmulShape, pattern: NMPattern | undefined) =>
    backendPlan(candidatePlans(shape, pattern, h100)[0], pattern, false, { shape, vectorTiles: false });
  const big = { m: 4096, n: 4096, k: 4096 };
  it('long windows: parts of 4–8 kept rows (more for denser windows) in 128×128 tiles of 8×4 (64×128 for 12), decode parts of rows to 2 · rows; else whole windows', () => {
    const part = (keep: number, group: number, decodeRows?: number) => windowPartKept({ keep, group, vectorLength: 32 }, decodeRows);
    expect([[32, 64], [64, 128], [24, 96], [48, 64], [100, 256], [16, 64], [17, 64], [8, 128], [16, 32]].map(([keep, group]) => part(keep, group)))
      .toEqual([8, 8, 8, 12, 5, 8, undefined, undefined, undefined]);
    // Denser windows take longer parts (about 16 dense rows): 40:64 → 10, 56:64 → 14, 192:256 → 12 (16 · ¾).
    expect([[40, 64], [56, 64], [192, 256]].map(([keep, group]) => part(keep, group))).toEqual([10, 14, 12]);
    expect(plan(big, { keep: 48, group: 64, vectorLength: 32 })).toMatchObject({ block: { m: 64, n: 128, k: 16 }, thread: { m: 8, n: 4 } });
    expect([[32, 64], [64, 128], [48, 64], [128, 256]].map(([keep, group]) => part(keep, group, 16))).toEqual([undefined, 32, 24, 32]);
    // Decode tiles of 4 rows (M ≤ 4) hold 8 kept rows per stage in the prefetch registers: 16:32 and 12:32 in parts too.
    expect([[16, 32], [12, 32], [8, 32], [32, 64]].map(([keep, group]) => part(keep, group, 4))).toEqual([8, 6, undefined, 8]);
    expect(part(16, 32, 8)).toBeUndefined();
    const p3264 = { keep: 32, group: 64, vectorLength: 32 };
    const quarters = plan(big, p3264);
    expect(quarters).toMatchObject({ variant: 'high-sparsity', block: { m: 128, n: 128, k: 16 }, thread: { m: 8, n: 4 }, threads: 512, stages: 2 });
    expect(planStageKept(big, p3264, quarters)).toBe(8);
    expect(plan(big, { keep: 24, group: 96, vectorLength: 32 })).toMatchObject({ block: { m: 128, n: 128, k: 32 }, thread: { m: 8, n: 4 } });
    // No part of 17 kept rows; 128-column tiles neither hold whole vectors of 48 nor lie inside one.
    for (const pattern of [{ keep: 17, group: 64, vectorLength: 32 }, { keep: 32, group: 64, vectorLength: 48 }]) {
      expect(plan(big, pattern).variant).not.toBe('high-sparsity');
    }
    // Decode: its own tile; 64:128 in halves (32 kept rows per stage), 32:64 in whole windows as before.
    const decode = { m: 16, n: 4096, k: 4096 };
    const p64 = { keep: 64, group: 128, vectorLength: 32 };
    expect(plan(decode, p64)).toMatchObject({ variant: 'decode', block: { n: 128, k: 64 }, thread: { m: 4, n: 4 }, threads: 128 });
    // 128:256: the planner narrows the tile to stage whole windows; parts take the decode width back.
    const p128 = { keep: 128, group: 256, vectorLength: 32 };
    const narrow = candidatePlans(decode, p128, h100)[0];
    expect(plan(decode, p128)).toMatchObject({ variant: 'decode', block: { n: 128, k: 64 } });
    expect(narrow.block.n).toBeLessThan(128);
    expect(planStageKept(decode, p64, plan(decode, p64))).toBe(32);
    expect(plan(decode, p3264).block.k).toBeGreaterThanOrEqual(64);
    // Fewer rows, shorter parts (the prefetch registers hold 2 · rows kept rows): 16 at M = 8, 8 at M = 1, 16:32 too.
    expect(planStageKept({ ...decode, m: 8 }, p64, plan({ ...decode, m: 8 }, p64))).toBe(16);
    const p16 = { keep: 16, group: 32, vectorLength: 32 };
    expect(planStageKept({ ...decode, m: 1 }, p16, plan({ ...decode, m: 1 }, p16))).toBe(8);
    expect(planStageKept(decode, p16, plan(decode, p16))).toBe(32); // M = 16: whole windows, two per stage
    // The spec: four stages per window (256 stages of 8 kept rows), a union stage of the lists' longest row count.
    const context = { limits: h100, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31, software: false };
    const s = kernelSpec(big, p3264, quarters, context, 21);
    expect(s.shader === 'tiled' && [s.stages, s.constants.KEPT, s.constants.A_ROWS, s.constants.UNION]).toEqual([256, 8, 21, true]);
    expect(s.name).toMatch(/^spmm-nm-window-parts 1\/4 128×128×16 \(8×4\/invocation, 512 invocations\) prefetch Aᵀ vec4-B split-K 1/);
    const d = kernelSpec(decode, p64, plan(decode, p64), context, 40);
    expect(d.shader === 'tiled' && [d.stages, d.constants.KEPT, d.constants.UNION]).toEqual([64, 32, true]);
    expect(d.name).toMatch(/^spmm-nm-decode window-parts 1\/2 /);
    // Lists too long for the workgroup memory (whole windows, larger still, do not fit either): the general kernel.
    expect(kernelSpec(big, p3264, quarters, { ...context, limits: { ...h100, maxSharedMemoryBytes: 8192 } }, 65).shader).toBe('general');
  });
  it('decode split-K: ~32 K invocations over the grid, ≥ 4 stages per slice, ≤ 64 slices (run 37)', () => {
    // M = 1 (32 invocations per 4×128 tile) at N = 4096: 32 slices; M = 8 (64): 16; M = 16 (128): 8; fewer stages cap it.
    expect([decodeSplitK(32, 32, 128), decodeSplitK(32, 64, 128), decodeSplitK(32, 128, 64), decodeSplitK(32, 128, 16)]).toEqual([32, 16, 8, 4]);
    expect([decodeSplitK(86, 32, 64), decodeSplitK(1, 32, 4096), decodeSplitK(512, 128, 3)]).toEqual([12, 64, 1]);
    // The backend's own decode plan takes it; a forced plan keeps its split-K.
    const context = { limits: h100, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31, software: false };
    const shape = { m: 1, n: 4096, k: 4096 };
    const p8 = { keep: 8, group: 32, vectorLength: 32 };
    const own = plan(shape, p8);
    expect(kernelSpec(shape, p8, own, context, undefined, {}, 'waves').splitK).toBe(32);
    expect(kernelSpec(shape, p8, { ...own, splitK: 3 }, context).splitK).toBe(3);
  });
  it('dense: 128×128 tiles, 16-row register-prefetched stages', () => {
    expect(plan(big, undefined)).toMatchObject({ block: { m: 128, n: 128, k: 16 }, stages: 2, threads: 256 });
  });
  it('16:32 V=32: 96×128 tiles (two workgroups of ≤ 23.5 KB per SM, a wave tail), 64×128 where 96 rows waste M; 12:32 stays 128×128', () => {
    expect(plan(big, { keep: 16, group: 32, vectorLength: 32 })).toMatchObject({ block: { m: 96, n: 128, k: 32 }, threads: 192 });
    expect(plan(big, { keep: 12, group: 32, vectorLength: 32 })).toMatchObject({ block: { m: 128, n: 128, k: 32 }, threads: 256 });
    expect(plan({ m: 256, n: 4096, k: 4096 }, { keep: 16, group: 32, vectorLength: 32 })).toMatchObject({ block: { m: 64, n: 128 }, thread: { m: 8, n: 4 }, threads: 256 });
    // Without a shape (no waste estimate) 64×128.
    const base = candidatePlans(big, { keep: 16, group: 32, vectorLength: 32 }, h100)[0];
    expect(backendPlan(base, { keep: 16, group: 32, vectorLength: 32 }, false).block.m).toBe(64);
    // Half the rows per tile, twice the tiles: half the split-K slices.
    const small = { m: 256, n: 4096, k: 4096 };
    const p16 = plan(small, { keep: 16, group: 32, vectorLength: 32 });
    const p12 = plan(small, { keep: 12, group: 32, vectorLength: 32 });
    expect(p16.splitK * 2).toBe(p12.splitK);
  });
  it('8:32 V=32 union stages: 8×4 invocation tiles (512 invocations; 64×128 at M ≤ 64, two windows per stage at N ≤ 5120); 4:32 64×128×64 in 8×4 tiles (256 invocations)', () => {
    const p8 = { keep: 8, group: 32, vectorLength: 32 };
    expect(plan({ m: 2048, n: 11008, k: 4096 }, p8)).toMatchObject({ variant: 'high-sparsity', block: { m: 128, n: 128, k: 32 }, thread: { m: 8, n: 4 }, threads: 512 });
    for (const m of [24, 64]) {
      expect(plan({ m, n: 24576, k: 8192 }, p8)).toMatchObject({ block: { m: 64, n: 128 }, thread: { m: 8, n: 4 }, threads: 256 });
    }
    // N ≤ 5120 (run 63): 4:32's form, two windows (16 kept rows) per stage in 64×128 tiles.
    for (const shape of [big, { m: 65, n: 4096, k: 4096 }, { m: 512, n: 5120, k: 5120 }]) {
      expect(plan(shape, p8)).toMatchObject({ block: { m: 64, n: 128, k: 64 }, thread: { m: 8, n: 4 }, threads: 256 });
    }
    expect(plan({ m: 65, n: 5121, k: 4096 }, p8)).toMatchObject({ block: { m: 128, n: 128, k: 32 }, threads: 512 });
    // Short windows keep the one-window form (1:4: two windows would be stages of 2 kept rows).
    expect(plan({ m: 256, n: 2048, k: 2048 }, { keep: 1, group: 4, vectorLength: 32 })).toMatchObject({ block: { m: 128, n: 128 }, threads: 512 });
    expect(plan(big, { keep: 4, group: 32, vectorLength: 32 })).toMatchObject({ variant: 'high-sparsity', block: { m: 64, n: 128, k: 64 }, thread: { m: 8, n: 4 }, threads: 256 });
  });
  it('2:4 V=1 (per-column slots): 64×128 tiles, 16-row stages', () => {
    expect(plan(big, { keep: 2, group: 4, vectorLength: 1 })).toMatchObject({ block: { m: 64, n: 128, k: 16 } });
  });
  it('decode: 4 rows per invocation, deep stages', () => {
    const p = plan({ m: 16, n: 4096, k: 4096 }, { keep: 16, group: 32, vectorLength: 32 });
    expect(p).toMatchObject({ variant: 'decode', thread: { m: 4 }, block: { k: 64 } });
  });
  it('CPU drivers: the planner\'s plan, single-buffered', () => {
    const base = candidatePlans(big, { keep: 16, group: 32, vectorLength: 32 }, h100)[0];
    expect(backendPlan(base, { keep: 16, group: 32, vectorLength: 32 }, true)).toEqual({ ...base, stages: 1 });
  });
});

describe('window parts on smaller devices: never the general kernel where whole windows ran tiled', () => {
  const limitSets = {
    h100: { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 },
    'WebGPU defaults': { maxSharedMemoryBytes: 16384, maxThreadsPerBlock: 256, subgroupSize: 32, computeUnits: 16 },
    '32 KB, 256': { maxSharedMemoryBytes: 32768, maxThreadsPerBlock: 256, subgroupSize: 32, computeUnits: 32 },
    '32 KB, 1024': { maxSharedMemoryBytes: 32768, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 32 },
  };
  const patterns = [[32, 64], [64, 128], [24, 96], [128, 256], [100, 256], [16, 64], [32, 128], [64, 256], [96, 128], [192, 256], [56, 64], [112, 128]];
  const shapes = [{ m: 1024, n: 1024, k: 1024 }, { m: 256, n: 4096, k: 4096 }, { m: 16, n: 4096, k: 4096 }, { m: 8, n: 4096, k: 4096 }];
  it.each(Object.entries(limitSets))('%s', (_, limits) => {
    const context = { limits, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 32 - 4, software: false };
    let parts = 0;
    for (const [keep, group] of patterns) {
      for (const vectorLength of [4, 8, 16, 32, 64]) {
        const pattern = { keep, group, vectorLength };
        for (const shape of shapes) {
          const planned = planTiling(shape, pattern, limits);
          const whole = backendPlans(planned, pattern, false, { shape }).at(-1)!;
          const chosen = backendPlan(planned, pattern, false, { shape, limits });
          const kept = planStageKept(shape, pattern, chosen);
          // A part plan is checked with the longest union list a part can have (the weights' real lists are shorter).
          const longest = kept < keep ? Math.min(group, kept * Math.max(1, chosen.block.n / vectorLength)) + 1 : undefined;
          if (longest) parts++;
          const spec = kernelSpec(shape, pattern, chosen, context, longest);
          const what = `${keep}:${group} V=${vectorLength} ${shape.m}×${shape.n}×${shape.k}: ${JSON.stringify(chosen.block)} ${chosen.variant}`;
          if (kernelSpec(shape, pattern, whole, context).shader === 'tiled') expect(spec.shader, what).toBe('tiled');
          // With the H100's limits every one of these runs tiled (parts of 8 fall back where longer parts do not fit).
          if (limits === limitSets.h100) expect(spec.shader, what).toBe('tiled');
          if (shape.m <= 16) expect(['decode', 'general'], what).toContain(chosen.variant); // never a 64- or 128-row tile
        }
      }
    }
    expect(parts).toBeGreaterThan(20); // the part plans are really in play on every device
  });
  it('decode of any row count keeps a window-part plan for windows too long to stage whole (odd keeps included)', () => {
    const limits = limitSets.h100;
    const context = { limits, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 32 - 4, software: false };
    for (const keep of [232, 248, 243, 217, 125, 128, 64]) {
      const pattern = { keep, group: 256, vectorLength: 32 };
      for (const m of [1, 4, 5, 9, 12, 16]) {
        const shape = { m, n: 4096, k: 4096 };
        const chosen = backendPlan(planTiling(shape, pattern, limits), pattern, false, { shape, limits });
        const kept = planStageKept(shape, pattern, chosen);
        // The longest union list a part can have: kept rows × the tile's vectors of 32 columns, at most the window.
        const spec = kernelSpec(shape, pattern, chosen, context, Math.min(256, kept * Math.max(1, chosen.block.n / 32)) + 1);
        expect(spec.shader, `${keep}:256 at M = ${m}: ${chosen.variant} ${JSON.stringify(chosen.block)}`).toBe('tiled');
      }
    }
  });
});

describe('buildUnionRows', () => {
  it('lists the rows each block keeps per stage (whole windows or parts by kept rank) and each kept row\'s position', () => {
    // One window of 8 rows, keep 4, two vectors of 2 columns: vector 0 keeps rows 0–3, vector 1 rows 4–7.
    const indices = Uint8Array.from([0, 4, 1, 5, 2, 6, 3, 7]); // [kept row][vector]
    const pattern = { keep: 4, group: 8, vectorLength: 2 };
    const halves = buildUnionRows(indices, 8, 4, pattern, 4, { keptPerStage: 2 });
    expect(halves.aRows).toBe(4); // every stage is full: no kept row past the end of B, no zero row
    expect(Array.from(halves.rows)).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
    expect(Array.from(halves.slots)).toEqual([0, 2, 1, 3, 0, 2, 1, 3]);
    // The whole window in one stage, per block of one vector each: exactly its kept rows, [0, 1, 2, 3] and [4, 5, 6, 7].
    const whole = buildUnionRows(indices, 8, 4, pattern, 2, { keptPerStage: 4 });
    expect(Array.from(whole.rows)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(whole.slots)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    // Blocks inside one vector list their kept rows in kept order, not sorted (kept row w0 + i at position i), and
    // always `keptPerStage` rows: one window (K = 8) in stages of two windows (8 kept rows) is a stage short of kept rows.
    const unsorted = Uint8Array.from([3, 7, 1, 5, 2, 6, 0, 4]);
    const ordered = buildUnionRows(unsorted, 8, 4, pattern, 2, { keptPerStage: 8 });
    expect(ordered.aRows).toBe(8);
    expect(Array.from(ordered.rows)).toEqual([3, 1, 2, 0, ...Array(4).fill(0xffffffff), 7, 5, 6, 4, ...Array(4).fill(0xffffffff)]);
    expect(Array.from(ordered.slots)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    // K = 24 in stages of two windows: the last stage (window 2) is short of kept rows, so its list needs a zero row
    // after it; here it is as long as the full stage's (8 rows: both vectors keep the same rows in windows 0 and 1).
    const three = Uint8Array.from([0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3, 0, 4, 1, 5, 2, 6, 3, 7]);
    const partial = buildUnionRows(three, 24, 4, pattern, 4, { keptPerStage: 8 });
    expect(partial.aRows).toBe(9);
    const unused = 0xffffffff;
    expect(Array.from(partial.rows)).toEqual([0, 1, 2, 3, 8, 9, 10, 11, unused, 16, 17, 18, 19, 20, 21, 22, 23, unused]);
    // Where the last stage's list is shorter than the longest, its unused entries already hold the zero row.
    const distinct = Uint8Array.from([0, 4, 1, 5, 2, 6, 3, 7, 0, 4, 1, 5, 2, 6, 3, 7, 0, 0, 1, 1, 2, 2, 3, 3]);
    expect(buildUnionRows(distinct, 24, 4, pattern, 4, { keptPerStage: 8 }).aRows).toBe(16);
    expect(() => buildUnionRows(indices, 8, 4, pattern, 4, { keptPerStage: 3 })).toThrow(RangeError);
  });
});

describe('slot layout: the union stages keep the run-4 form (one sA row per 4 columns), the rest per-vector offsets', () => {
  const h100 = { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 };
  const context = { limits: h100, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31, software: false };
  const shape = { m: 4096, n: 4096, k: 4096 };
  const spec = (pattern: NMPattern, options: { slotLayout?: SlotLayout; columnMap?: 'split' | 'consecutive'; keptChunk?: number } = {}, wide = false) => {
    // wide: the planner's 128×128 8×8 tile as it is (the 4:32 default became 64×128×64 8×4 in run 10).
    const base = candidatePlans(shape, pattern, h100)[0];
    const plan = wide ? { ...base, stages: 2 } : backendPlan(base, pattern, false);
    const b = randomCompressed(1024, 256, pattern, 2); // union lists of a smaller matrix: only their length matters
    const aRows = buildUnionRows(b.indices, 1024, 256, pattern, plan.block.n, { keptPerStage: planStageKept(shape, pattern, plan) }).aRows;
    const s = kernelSpec(shape, pattern, plan, context, aRows, options);
    if (s.shader !== 'tiled') throw new Error('expected the tiled kernel');
    return s;
  };
  const p4 = { keep: 4, group: 32, vectorLength: 32 };
  it('4:32 (union, split map) in 8×8 tiles: rows per 4 columns by default; per-vector offsets on request, another pipeline', () => {
    const rows = spec(p4, {}, true);
    expect(rows.constants).toMatchObject({ UNION: true, COLMAP: 0, SLOT_OFFSETS: false, SLOT_COLS: 4, SLOTS_PER_ROW: rows.constants.BN / 4 });
    expect(rows.name).toContain('row-slots');
    const offsets = spec(p4, { slotLayout: 'vector-offsets' }, true);
    expect(offsets.constants).toMatchObject({ UNION: true, SLOT_OFFSETS: true, SLOT_COLS: 32, SLOTS_PER_ROW: offsets.constants.BN / 32 });
    expect(offsets.name).not.toContain('row-slots');
    expect(pipelineKey('tiled', { ...offsets.constants })).not.toBe(pipelineKey('tiled', { ...rows.constants }));
    expect(pipelineKey('tiled', { ...rows.constants })).toContain('SLOT_OFFSETS=false');
  });
  it('union with the consecutive map, whole-window stages and dense: per-vector offsets; 8:32 union stages: 8×4 tiles, rows per 4 columns', () => {
    expect(spec(p4, { columnMap: 'consecutive' }, true).constants).toMatchObject({ COLMAP: 1, SLOT_OFFSETS: true, SLOT_COLS: 32 });
    const p8 = { keep: 8, group: 32, vectorLength: 32 };
    expect(spec(p8, { columnMap: 'split', slotLayout: 'vector-offsets' }).constants).toMatchObject({ UNION: true, COLMAP: 0, SLOT_OFFSETS: true, SLOT_COLS: 32 });
    expect(spec({ keep: 12, group: 32, vectorLength: 32 }).constants).toMatchObject({ UNION: false, COLMAP: 1, SLOT_OFFSETS: true, SLOT_COLS: 32 });
    // Kept-row chunks of 4 by default for 12- and 16-kept-row whole-window stages; not on request of 0, not union.
    expect(spec({ keep: 12, group: 32, vectorLength: 32 }).constants.KCHUNK).toBe(4);
    expect(spec({ keep: 12, group: 32, vectorLength: 32 }, { keptChunk: 0 }).constants.KCHUNK).toBe(0);
    expect(spec({ keep: 16, group: 32, vectorLength: 32 }).constants.KCHUNK).toBe(4);
    expect(spec(p4, {}, true).constants.KCHUNK).toBe(0);
    // The 4:32 default (run 10): 64×128 union stages of two windows (8 kept rows) in 8×4 tiles, per-vector offsets, chunks of 4.
    expect(spec(p4).constants).toMatchObject({ BM: 64, BN: 128, BK: 64, TN: 4, WG: 256, UNION: true, COLMAP: 0, SLOT_OFFSETS: true, KCHUNK: 4 });
    // 8:32 union stages: 8×4 invocation tiles reading rows per 4 columns.
    expect(spec(p8).constants).toMatchObject({ TN: 4, WG: 512, SLOT_OFFSETS: false, SLOT_COLS: 4 });
    const dense = kernelSpec(shape, undefined, backendPlan(candidatePlans(shape, undefined, h100)[0], undefined, false), context);
    expect(dense.shader === 'tiled' && dense.constants.SLOT_OFFSETS).toBe(true);
  });
});

describe('wave-tail split: the last partial wave of a large grid as shorter work items', () => {
  const h100 = { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 132 };
  const context: Parameters<typeof kernelSpec>[3] = { limits: h100, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31, software: false };
  const p16 = { keep: 16, group: 32, vectorLength: 32 };
  const spec = (shape: MatmulShape, pattern: NMPattern | undefined, options: KernelOptions = {}, ctx = context, unionRows?: number) => {
    // The tiles without one-vector tiles unless asked (what dense, V % 32 ≠ 0 and density > ½ run): tails and loads.
    const all = { vectorTiles: false, ...options };
    const s = kernelSpec(shape, pattern, backendPlan(candidatePlans(shape, pattern, ctx.limits)[0], pattern, false, { shape, vectorTiles: all.vectorTiles }), ctx, unionRows, all);
    if (s.shader !== 'tiled') throw new Error('expected the tiled kernel');
    return s;
  };
  it('waveTail: only past one wave, only when the last wave leaves half the slots idle; 2 to 4 copies, ≥ 4 stages each', () => {
    // 4096³ 16:32 in 112×128 tiles: 37 × 32 = 1184 tiles on 264 slots, the last wave 128 tiles = 4 row blocks.
    expect(waveTail(37, 32, 128, 264)).toEqual({ rows: 4, splits: 2 });
    // On 256 slots the last wave is 160 tiles (more than half): no split.
    expect(waveTail(37, 32, 128, 256)).toBeUndefined();
    // 2048×11008×4096: 19 × 86 tiles, last wave 50 tiles → one row block of 86 in 3 copies.
    expect(waveTail(19, 86, 128, 264)).toEqual({ rows: 1, splits: 3 });
    expect(waveTail(2, 32, 128, 264)).toBeUndefined(); // one wave
    expect(waveTail(33, 8, 128, 264)).toBeUndefined(); // exact waves
    expect(waveTail(19, 86, 7, 264)).toBeUndefined(); // 2 or 3 copies would leave < 4 stages each
    expect(waveTail(19, 86, 9, 264)).toEqual({ rows: 1, splits: 2 });
    // Run 21 (H100): 4:32 in 64×128×64 tiles of 8×4 (13200 B) and 2:4 V = 1 in 64×128×16 tiles of 8×8 with 128
    // invocations (12544 B) run three per SM; sized for three, their tails were the fastest of eight.
    expect(waveTail(64, 32, 64, 396)).toEqual({ rows: 3, splits: 4 });
    expect(waveTail(80, 32, 64, 396)).toEqual({ rows: 6, splits: 2 });
    expect(waveTail(16, 32, 64, 396)).toEqual({ rows: 4, splits: 3 });
  });

  it('waveSplitK: the K slices of least cost in stage times for grids of at most one wave (≤ 8, ≥ 4 stages each)', () => {
    expect(waveSplitK(128, 64, 396)).toBe(3); // 256×4096² 4:32 in 64×128 tiles, three per SM (run 21: the fastest)
    expect(waveSplitK(128, 64, 264)).toBe(2);
    expect(waveSplitK(64, 256, 264)).toBe(4); // 256×4096² dense in 128×128 tiles
    expect(waveSplitK(172, 128, 264)).toBe(3); // 256×11008×4096 8:32: two fuller waves beat one at 65 % (run 21)
    expect(waveSplitK(16, 64, 264)).toBe(4); // more slices would cost more in partials than their waves save
    expect(waveSplitK(16, 20, 264)).toBe(2); // ≥ 4 stages per slice
    expect(waveSplitK(300, 64, 264)).toBe(1); // more than a wave: whole (the wave tail's case)
    // M ≤ 64 (one row block, run 58): the most slices one wave holds.
    expect([fillSplitK(32, 128, 264), fillSplitK(86, 128, 264), fillSplitK(86, 128, 396), fillSplitK(64, 256, 396), fillSplitK(32, 20, 264), fillSplitK(300, 128, 264)]).toEqual([8, 3, 4, 6, 5, 1]);
  });
  it('kernelSpec: the backend\'s own plan takes waveSplitK; a forced plan keeps its split-K', () => {
    const p4 = { keep: 4, group: 32, vectorLength: 32 };
    const shape = { m: 256, n: 4096, k: 4096 };
    // As on the H100: the planner sees the vendor guess of 128 compute units, the wave sizing the adapter's 132.
    const guess = { ...context, limits: { ...h100, computeUnits: 128 }, multiprocessors: 132 };
    const plan = backendPlan(candidatePlans(shape, p4, guess.limits)[0], p4, false, { shape, vectorTiles: false });
    expect(plan.splitK).toBe(2); // the planner's 4, halved for 64-row tiles
    const own = kernelSpec(shape, p4, plan, guess, 33, {}, 'waves');
    expect(own.splitK).toBe(3);
    expect(own.name).toMatch(/64×128×64 .* split-K 3$/);
    expect(kernelSpec(shape, p4, plan, guess, 33).splitK).toBe(2);
    expect(kernelSpec(shape, p4, plan, { ...guess, software: true }, 33, {}, 'waves').splitK).toBe(2); // CPU drivers: as planned
  });
  it('workgroupsPerUnit: the tightest of workgroup memory, invocations and registers (two per accumulator)', () => {
    const perUnit = (sharedBytes: number, invocations: number, tm: number, tn: number) =>
      workgroupsPerUnit({ sharedBytes, invocations, accumulators: tm * tn }, 49152);
    expect(perUnit(23296, 224, 8, 8)).toBe(2); // 112×128 16:32: memory and registers
    expect(perUnit(25344, 256, 8, 8)).toBe(1); // over 24 KiB
    expect(perUnit(4096, 256, 8, 8)).toBe(2); // registers: 128 per invocation
    expect(perUnit(13200, 256, 8, 4)).toBe(3); // 4:32 64×128×64: memory
    expect(perUnit(12544, 128, 8, 8)).toBe(3); // 2:4 V = 1 64×128×16: memory
    expect(perUnit(19904, 512, 8, 4)).toBe(2); // 8:32 128×128×32: memory and registers
    expect(perUnit(1024, 1024, 4, 2)).toBe(2); // invocations
  });
  it('kernelSpec: 4096³ 16:32 on 132 SMs runs 41 row blocks plus 2 in 4 copies; off on request, on CPU drivers, for split-K and decode', () => {
    const big = { m: 4096, n: 4096, k: 4096 };
    // 96×128 tiles: 43 × 32 = 1376 tiles, the last wave 56 tiles → 2 row blocks (64 tiles) in 4 copies.
    const s = spec(big, p16);
    expect(s.tail).toEqual({ rowBlock: 41, firstRow: 41 * 96, rows: 2, splits: 4, stagesPerSplit: 32 });
    expect(s.grid).toEqual([32, 41 + 2 * 4, 1]);
    expect(s.name).toMatch(/96×128×32 .* split-K 1 tail 2×4$/);
    // Compiled in only where it runs: a pipeline of its own.
    expect(s.constants.TAIL).toBe(true);
    const off = spec(big, p16, { tail: false });
    expect(off.tail).toBeUndefined();
    expect(off.constants.TAIL).toBe(false);
    expect(pipelineKey('tiled', { ...off.constants })).not.toBe(pipelineKey('tiled', { ...s.constants }));
    expect(spec(big, p16, {}, { ...context, software: true }).tail).toBeUndefined();
    expect(spec(big, p16, {}, { ...context, limits: { ...h100, computeUnits: 100 } }).tail).toBeUndefined(); // last wave 176 of 200 slots
    // The planner's rules see the vendor default (128); the tail the adapter's real count when known.
    expect(spec(big, p16, {}, { ...context, limits: { ...h100, computeUnits: 100 }, multiprocessors: 132 }).tail).toMatchObject({ rows: 2, splits: 4 });
    expect(knownComputeUnits({ device: 'nvidia-h100-80gb-hbm3', description: 'NVIDIA: 580.159.04' })).toBe(132);
    expect(knownComputeUnits({ device: 'NVIDIA H100 PCIe', description: '' })).toBe(114);
    expect(knownComputeUnits({ device: '', description: '' })).toBeUndefined();
    expect(spec({ m: 256, n: 4096, k: 4096 }, p16).tail).toBeUndefined(); // split-K plan
    expect(spec({ m: 16, n: 4096, k: 4096 }, p16, { tail: { rows: 1, splits: 2 } }).tail).toBeUndefined(); // decode
    // Forced: shrunk to the row blocks there are; the copies to the stages.
    expect(spec(big, p16, { tail: { rows: 99, splits: 3 } }).tail).toMatchObject({ rowBlock: 0, rows: 43, splits: 3 });
    // The partials share C's buffer: fewer copies when they would not fit the largest binding.
    const tight = { ...context, maxBindingBytes: 4096 * 4096 * 4 + 4 * 112 * 4096 * 4 };
    expect(spec(big, p16, { tail: { rows: 4, splits: 4 } }, tight).tail).toMatchObject({ splits: 2 });
  });
  it('kernelSpec: 4:32 in 64×128 tiles (three per SM) sizes its tail for 396 slots: 4096³ 3×4, 5120×4096² 6×2', () => {
    const p4 = { keep: 4, group: 32, vectorLength: 32 };
    // The longest union list 33 rows (32 and the zero row, as with the H100 run's random weights): 13200 B.
    const s = spec({ m: 4096, n: 4096, k: 4096 }, p4, {}, context, 33);
    expect(s.constants).toMatchObject({ BM: 64, BN: 128, TM: 8, TN: 4, WG: 256, UNION: true });
    expect(s.sharedBytes).toBe(13200);
    // 64 × 32 = 2048 tiles: on 264 slots the last wave (200) would be too full for a tail; on 396 it is 68 tiles.
    expect(s.tail).toMatchObject({ rows: 3, splits: 4 });
    expect(spec({ m: 5120, n: 4096, k: 4096 }, p4, {}, context, 33).tail).toMatchObject({ rows: 6, splits: 2 });
    expect(spec({ m: 3072, n: 4096, k: 4096 }, p4, {}, context, 33).tail).toBeUndefined(); // 1536 tiles: the last wave 348 of 396
  });
  it('kernelSpec: vec4 staging loads on GPUs (Aᵀ: K + 1 rows, M padded to row blocks), scalar A for wave-tailed tiles at the edge of their registers, none on CPU drivers', () => {
    const p4 = { keep: 4, group: 32, vectorLength: 32 };
    const p12 = { keep: 12, group: 32, vectorLength: 32 };
    const loads = (s: ReturnType<typeof spec>) => (s.shader === 'tiled' ? [s.constants.A_T, s.constants.B_VEC, s.transposed, s.tail !== undefined] : undefined);
    // 16:32 at 4096³: a wave tail of 96-row tiles, Aᵀ of 4097 rows × 43 row blocks of 24 vec4s.
    expect(loads(spec({ m: 4096, n: 4096, k: 4096 }, p16))).toEqual([true, true, { rows: 4097, quads: 43 * 24 }, true]);
    // 4:32's 8×4 tiles and 12:32's 128×128 tiles of 8×8 keep scalar A where a wave tail runs (run 54: 81 and 135 registers).
    expect(loads(spec({ m: 4096, n: 4096, k: 4096 }, p4, {}, context, 33))).toEqual([false, true, undefined, true]);
    expect(loads(spec({ m: 3072, n: 4096, k: 4096 }, p4, {}, context, 33))).toEqual([true, true, { rows: 4097, quads: 48 * 16 }, false]);
    expect(loads(spec({ m: 2048, n: 11008, k: 4096 }, p12))?.slice(0, 2)).toEqual([false, true]);
    expect(loads(spec({ m: 4096, n: 4096, k: 4096 }, p12))?.slice(0, 2)).toEqual([true, true]);
    // Dense 128×128 tiles of 8×8 stage no slots: Aᵀ with their wave tail too.
    expect(loads(spec({ m: 2048, n: 11008, k: 4096 }, undefined))).toMatchObject([true, true, { rows: 4097 }, true]);
    // 8:32 at N ≤ 5120: two-window union stages of 16 kept rows, one sA offset per vector, chunks of 4 (run 63).
    const p8 = { keep: 8, group: 32, vectorLength: 32 };
    expect(spec({ m: 4096, n: 4096, k: 4096 }, p8, {}, context, 49).constants).toMatchObject({ BM: 64, TN: 4, KEPT: 16, UNION: true, SLOT_OFFSETS: true, KCHUNK: 4, A_T: true });
    expect(spec({ m: 2048, n: 11008, k: 4096 }, p8, {}, context, 25).constants).toMatchObject({ BM: 128, TN: 4, KEPT: 8, SLOT_OFFSETS: false, KCHUNK: 0 });
    // Requests win; N % 4 ≠ 0 keeps scalar B; CPU drivers default to neither; an Aᵀ over one binding is dropped.
    expect(loads(spec({ m: 4096, n: 4096, k: 4096 }, p4, { transposeA: true }, context, 33))?.[0]).toBe(true);
    expect(loads(spec({ m: 4096, n: 4094, k: 4096 }, p16))?.slice(0, 2)).toEqual([true, false]);
    expect(loads(spec({ m: 4096, n: 4096, k: 4096 }, p16, {}, { ...context, software: true }))?.slice(0, 2)).toEqual([false, false]);
    expect(loads(spec({ m: 4096, n: 4096, k: 4096 }, p16, {}, { ...context, maxBindingBytes: 4096 * 4096 * 4 }))?.[0]).toBe(false);
  });
});

describe('one-vector tiles: N:M at density ≤ ½ with V a multiple of 32 (H100 runs 68–72)', () => {
  const h100 = { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 132 };
  const context: Parameters<typeof kernelSpec>[3] = { limits: h100, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31, software: false };
  const nm = (keep: number, group = 32, vectorLength = 32): NMPattern => ({ keep, group, vectorLength });
  const plan = (shape: MatmulShape, pattern: NMPattern, vectorTiles?: boolean) =>
    backendPlan(candidatePlans(shape, pattern, h100)[0], pattern, false, { shape, vectorTiles });
  const big = { m: 4096, n: 4096, k: 4096 };
  // The backend's own spec, with the union lists one-vector tiles build (their kept rows: `kept` rows per stage).
  const spec = (shape: MatmulShape, pattern: NMPattern) => {
    const p = plan(shape, pattern);
    const s = kernelSpec(shape, pattern, p, context, planStageKept(shape, pattern, p), {}, 'waves');
    if (s.shader !== 'tiled') throw new Error('expected the tiled kernel');
    return s;
  };

  it('128×32 tiles of 8×8 (64 invocations) in stages of about 8 kept rows: whole windows, 12 whole, 16 in halves', () => {
    for (const [keep, k] of [[4, 64], [8, 32], [12, 32], [16, 16]]) {
      expect(plan(big, nm(keep))).toMatchObject({ variant: 'high-sparsity', block: { m: 128, n: 32, k }, thread: { m: 8, n: 8 }, threads: 64 });
    }
    expect(plan(big, nm(2, 4)).block).toEqual({ m: 128, n: 32, k: 16 }); // 2:4 with V = 32: four windows
    expect(plan(big, nm(8, 32, 64)).block.n).toBe(32); // a block inside a vector of 64
    // Not one vector: V = 16, density ¾, element-wise; and on request the tiles before.
    for (const pattern of [nm(8, 32, 16), nm(24), nm(2, 4, 1)]) expect(plan(big, pattern).block.n).toBe(128);
    expect(plan(big, nm(4), false)).toMatchObject({ block: { m: 64, n: 128, k: 64 }, thread: { m: 8, n: 4 } });
  });

  it('grids under ~a wave stage 16 kept rows (128-row tiles, or density ≤ ⅛); 64-row tiles below 256 rows; from 64 rows, except density ½ at 64', () => {
    expect(plan({ m: 512, n: 4096, k: 4096 }, nm(4)).block).toEqual({ m: 128, n: 32, k: 128 });
    expect(plan({ m: 512, n: 4096, k: 4096 }, nm(8)).block).toEqual({ m: 128, n: 32, k: 64 });
    expect(plan({ m: 1024, n: 11008, k: 4096 }, nm(8)).block).toEqual({ m: 128, n: 32, k: 32 }); // 2752 tiles
    expect(plan({ m: 128, n: 11008, k: 4096 }, nm(8)).block).toEqual({ m: 64, n: 32, k: 32 });
    expect(plan({ m: 128, n: 4096, k: 4096 }, nm(4)).block).toEqual({ m: 64, n: 32, k: 128 });
    expect(plan({ m: 64, n: 4096, k: 4096 }, nm(12)).block).toEqual({ m: 64, n: 32, k: 32 });
    expect(plan({ m: 64, n: 4096, k: 4096 }, nm(16)).block.n).toBe(128);
    expect(plan({ m: 63, n: 4096, k: 4096 }, nm(8)).block.n).toBe(128);
    // At most 256 rows of K per stage: 1:32 on a shallow grid takes 8 windows (8 kept rows), not 16.
    expect(plan({ m: 512, n: 4096, k: 4096 }, nm(1)).block).toEqual({ m: 128, n: 32, k: 256 });
    // Parts of fewer than 4 kept rows (13:32 would stage one kept row at a time): the tiles before.
    expect(plan(big, nm(13)).block.n).toBe(128);
    expect(plan(big, nm(14)).block).toEqual({ m: 128, n: 32, k: 16 }); // parts of 7
  });

  it('kernelSpec: kept-order lists (no slots), the consecutive map, chunks of 2 at 8 kept rows and of 4 from 12', () => {
    const s4 = spec(big, nm(4));
    expect(s4.constants).toMatchObject({ BM: 128, BN: 32, TM: 8, TN: 8, WG: 64, KEPT: 8, A_ROWS: 8, UNION: true, SLOT_MODE: 0, COLMAP: 1, KCHUNK: 2 });
    expect(s4.name).toMatch(/^spmm-nm-high-sparsity 128×32×64 \(8×8\/invocation, 64 invocations\) prefetch consecutive kept-order chunk 2 Aᵀ vec4-B split-K 1 tail 1×2$/); // vectorTileTail at 64 stages, ≤ ⅛
    expect(spec(big, nm(12)).constants).toMatchObject({ KEPT: 12, SLOT_MODE: 0, KCHUNK: 4 });
    expect(spec(big, nm(16)).name).toMatch(/^spmm-nm-window-parts 1\/2 128×32×16 .* kept-order chunk 2 /);
    expect(spec({ m: 512, n: 4096, k: 4096 }, nm(4)).constants).toMatchObject({ KEPT: 16, KCHUNK: 4 });
    // Chunks divide the stage: 15 kept rows (3:8, five windows) unchunked, 14 (7:16, two windows) in chunks of 2.
    for (const [pattern, kept, chunk] of [[nm(3, 8), 15, 0], [nm(7, 16), 14, 2]] as const) {
      const shallow = { m: 256, n: 4096, k: 4096 };
      expect(spec(shallow, pattern).constants).toMatchObject({ KEPT: kept, A_ROWS: kept, SLOT_MODE: 0, KCHUNK: chunk });
    }
  });

  it('vectorTileTail: past one wave, ≥ 15 % of the slots (the last wave up to 60 %), 2–4 copies by stages; short grids: 1 × 2 at ≤ ⅛, else waveTail', () => {
    // 4096³ on 132 SMs × 8 (1056 slots), 4096 tiles: the last wave is 88 % full, so the tail is the 15 % share.
    expect(vectorTileTail(32, 128, 128, 1056, 1 / 4)).toEqual({ rows: 2, splits: 3 }); // 8:32 (run 90: 1.058 ms against 1.068 without)
    expect(vectorTileTail(32, 128, 256, 1056, 1 / 2)).toEqual({ rows: 2, splits: 4 }); // 16:32 in halves of windows
    // 64 stages: 4:32 one row block in 2 copies (run 90: 0.579 ms against 0.589 without); 12:32 (K = 2048) waveTail's rule.
    expect(vectorTileTail(32, 128, 64, 1056, 1 / 8)).toEqual({ rows: 1, splits: 2 });
    expect(vectorTileTail(32, 64, 64, 792, 3 / 8)).toBeUndefined(); // 4096×2048² 12:32: the last wave 59 % full
    // 2048×11008×2048 8:32 (64 stages, density ¼): waveTail's 1 × 3 after a last wave of 224 tiles, not 1 × 2.
    expect(vectorTileTail(16, 344, 64, 1056, 1 / 4)).toEqual({ rows: 1, splits: 3 });
    expect(vectorTileTail(4, 160, 40, 528, 1 / 8)).toEqual({ rows: 1, splits: 2 });
    expect(vectorTileTail(8, 128, 64, 1056, 1 / 8)).toBeUndefined(); // one wave
    // 2048×5120² 16:32: 2560 tiles, the last wave 448 (42 %) → the 3 row blocks of 160 that hold it.
    expect(vectorTileTail(16, 160, 320, 1056, 1 / 2)).toEqual({ rows: 3, splits: 4 });
    // 2048×11008×4096 12:32 (six per SM, 792 slots): the last wave 95 % full → one row block of 344.
    expect(vectorTileTail(16, 344, 128, 792, 3 / 8)).toEqual({ rows: 1, splits: 3 });
    expect(vectorTileTail(8, 128, 128, 1056, 1 / 4)).toBeUndefined(); // one wave
    expect(vectorTileTail(1, 2000, 128, 1056, 1 / 4)).toBeUndefined(); // the tail would be more than half the row blocks
    expect(vectorTileTail(24, 128, 80, 1056, 1 / 4)).toEqual({ rows: 2, splits: 2 }); // 80 stages: 2 copies
  });

  it('kernelSpec: one-vector tiles take vectorTileTail, the tiles before them waveTail', () => {
    expect(spec(big, nm(8)).name).toMatch(/kept-order chunk 2 Aᵀ vec4-B split-K 1 tail 2×3$/);
    expect(spec(big, nm(16)).name).toMatch(/split-K 1 tail 2×4$/);
    const p = plan(big, nm(8), false);
    const before = kernelSpec(big, nm(8), p, context, undefined, {}, 'waves');
    expect(before.shader === 'tiled' && before.name).not.toMatch(/kept-order/);
    // waveTail: 2048 tiles of 64×128 at one per SM (25856 B), the last wave 52 % full: no tail.
    expect(before.shader === 'tiled' && before.tail).toBeUndefined();
  });

  it('only one-vector tiles read kept order without slots: blocks of 128 columns inside a vector of 128 keep their slots', () => {
    const pattern = nm(56, 64, 128); // long windows: window parts in 128-column tiles, inside one vector
    const shape = { m: 512, n: 4096, k: 4096 };
    const p = plan(shape, pattern);
    expect(p.block.n).toBe(128);
    const s = kernelSpec(shape, pattern, p, context, planStageKept(shape, pattern, p), {}, 'waves');
    expect(s.shader === 'tiled' && s.constants).toMatchObject({ UNION: true, SLOT_MODE: 1 });
  });

  it('split-K: grids of up to two waves without a wave tail are sized too (256×22016×8192 12:32: 4 slices; 2048×11008×4096: none)', () => {
    // 12 kept rows: 7876 B, six per SM by memory, 792 slots; 1376 tiles.
    expect(waveSplitK(1376, 256, 792, 2)).toBe(4);
    expect(waveSplitK(1376, 256, 792, 2, { stages: 8, after: 2 * 132 })).toBe(4);
    expect(waveSplitK(1376, 256, 792)).toBe(1);
    expect(spec({ m: 256, n: 22016, k: 8192 }, nm(12)).splitK).toBe(4);
    expect(spec({ m: 2048, n: 11008, k: 4096 }, nm(12)).splitK).toBe(1);
  });

  it('split-K of one-vector tiles prices a slice at 8 stages past 4 subgroups per SM (runs 86–87)', () => {
    const crowded = { stages: 8, after: 2 * 132 }; // 128×32 tiles: 64 invocations, two subgroups
    // 512×13824×5120 4:32: 1728 tiles of 8 per SM (1056 slots), 80 stages. Three stages per slice chose 3 slices
    // (0.426 ms on the H100), eight choose the whole K (0.328).
    expect(waveSplitK(1728, 80, 1056, 2)).toBe(3);
    expect(waveSplitK(1728, 80, 1056, 2, crowded)).toBe(1);
    // 256×2048² 8:32: 128 tiles, 32 stages, 528 slots. Slices up to 4 subgroups per SM stay cheap: 2 (the patterns
    // suite measured 3 at 0.047 ms and the whole K, which 8 stages a slice everywhere would take, at 0.057).
    expect(waveSplitK(128, 32, 528, 2, crowded)).toBe(2);
    expect(waveSplitK(128, 32, 528, 2, { stages: 8, after: 0 })).toBe(1);
    expect(spec({ m: 512, n: 13824, k: 5120 }, nm(4)).splitK).toBe(1);
    // 128×11008×4096 8:32 in 64-row tiles: 2 slices (0.134 ms), not 5 (0.159).
    expect(spec({ m: 128, n: 11008, k: 4096 }, nm(8)).splitK).toBe(2);
    // 256×4096² 4:32: whole K (0.063 ms), not 2 (0.072); 128×4096² 4:32 in 64-row tiles (one subgroup each): 2 (0.047,
    // the whole K 0.058).
    expect(spec({ m: 256, n: 4096, k: 4096 }, nm(4)).splitK).toBe(1);
    expect(spec({ m: 128, n: 4096, k: 4096 }, nm(4)).splitK).toBe(2);
  });

  // CPU drivers do not pick one-vector tiles (their own plans stay the planner's): forced here, on lavapipe's 64
  // invocations. K = 333 leaves the last stage short of kept rows; M and N are ragged.
  it.each([
    ['4:32, two windows per stage, chunks of 2', nm(4), { m: 128, n: 32, k: 64 }, 1, /^spmm-nm-high-sparsity .*kept-order chunk 2 /],
    ['8:32, split-K 2', nm(8), { m: 128, n: 32, k: 32 }, 2, /^spmm-nm-high-sparsity .*kept-order chunk 2 .*split-K 2$/],
    ['12:32, chunks of 4', nm(12), { m: 64, n: 32, k: 32 }, 1, /^spmm-nm-high-sparsity .*kept-order chunk 4 /],
    ['16:32 in halves of windows', nm(16), { m: 64, n: 32, k: 16 }, 1, /^spmm-nm-window-parts 1\/2 .*kept-order /],
    ['2:4 with V = 32', nm(2, 4), { m: 64, n: 32, k: 16 }, 1, /kept-order/],
    ['8:32 with V = 64 (two tiles per vector)', nm(8, 32, 64), { m: 64, n: 32, k: 32 }, 1, /kept-order/],
  ] as const)('%s: matches the float64 reference', async (_, pattern, block, splitK, kernel) => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 150, n: 100, k: 333 };
    const forced = { ...forcedPlan(shape, pattern, 'high-sparsity', block, { m: 8, n: 8 }), splitK };
    expect(await runSparse(shape, pattern, forced, 41)).toMatch(kernel);
    // With the GPU default's staging loads too (A from Aᵀ through the kept-order lists, B as vec4s).
    const loads = await runSparse(shape, pattern, forced, 43, { transposeA: true, vectorB: true });
    expect(loads).toMatch(kernel);
    expect(loads).toContain(' Aᵀ vec4-B ');
  });

  it('NaN and Inf in A where every weight is pruned never reach C', async () => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 70, n: 64, k: 200 };
    const pattern = nm(4);
    const forced = forcedPlan(shape, pattern, 'high-sparsity', { m: 64, n: 32, k: 64 }, { m: 8, n: 8 });
    expect(await expectPoisonHarmless(backend, shape, pattern, {}, 97, forced)).toMatch(/kept-order/);
    expect(await expectPoisonHarmless(backend, shape, pattern, { transposeA: true }, 98, forced)).toMatch(/kept-order .* Aᵀ /);
  });
});

describe('tiled kernel variants', () => {
  it.each([
    // [what, shape, pattern (undefined: dense), forced plan or undefined, options beyond the two loads, kernel]
    ['16:32 whole windows, ragged M and K', { m: 67, n: 132, k: 161 }, { keep: 16, group: 32, vectorLength: 32 }, undefined, {}, /^spmm-nm-low-sparsity /],
    ['4:32 union rows (unused entries read the zero row)', { m: 70, n: 260, k: 333 }, { keep: 4, group: 32, vectorLength: 32 }, undefined, {}, /^spmm-nm-high-sparsity /],
    ['2:4 V=1 per-column slots, N % 4 ≠ 0 (scalar B)', { m: 45, n: 77, k: 98 }, { keep: 2, group: 4, vectorLength: 1 }, undefined, {}, /^spmm-nm-low-sparsity /],
    ['32:64 window parts with a wave tail', { m: 150, n: 64, k: 400 }, { keep: 32, group: 64, vectorLength: 32 }, 'parts', { tail: { rows: 2, splits: 3 } }, /^spmm-nm-window-parts 1\/2 .* tail 2×3$/],
    ['8:32 split-K 3', { m: 33, n: 96, k: 300 }, { keep: 8, group: 32, vectorLength: 32 }, 'split', { decodeKernel: 'tiled' }, /split-K 3$/],
    ['dense', { m: 77, n: 64, k: 93 }, undefined, undefined, {}, /^matmul-dense-tiled /],
    // 8:32's two-window union stages (the H100 default at N ≤ 5120: 64×128×64 of 8×4; 32×64×64 here), split-K 1 and 3.
    ['8:32 two-window union stages', { m: 70, n: 260, k: 333 }, { keep: 8, group: 32, vectorLength: 32 }, 'two', { slotLayout: 'vector-offsets', keptChunk: 4 }, /^spmm-nm-high-sparsity 32×64×64 \(8×4.* chunk 4 .*split-K 1$/],
    ['8:32 two-window union stages, split-K 3', { m: 70, n: 260, k: 333 }, { keep: 8, group: 32, vectorLength: 32 }, 'two-split', { slotLayout: 'vector-offsets', keptChunk: 4 }, /^spmm-nm-high-sparsity 32×64×64 .*split-K 3$/],
    // Tiled decode tiles (M ≤ 16) read Aᵀ too: one row block of M rounded up to 4.
    ['decode M = 1', { m: 1, n: 64, k: 300 }, { keep: 16, group: 32, vectorLength: 32 }, undefined, { decodeKernel: 'tiled' }, /^spmm-nm-decode /],
    ['decode M = 13, 4:32', { m: 13, n: 64, k: 300 }, { keep: 4, group: 32, vectorLength: 32 }, undefined, { decodeKernel: 'tiled' }, /^spmm-nm-decode /],
  ] as const)('vec4 staging loads (Aᵀ, vec4 B, both) match the float64 reference: %s', async (_, shape, pattern, force, options, kernel) => {
    const backend = gpu();
    if (!backend) return;
    const a = randomDense(shape.m, shape.k, 61);
    const b = pattern ? randomCompressed(shape.k, shape.n, pattern, 62) : randomDense(shape.k, shape.n, 62);
    const weights = pattern ? await backend.prepare(b as ReturnType<typeof randomCompressed>) : await backend.prepareDense(b as ReturnType<typeof randomDense>);
    const reference = pattern ? referenceSpmm(a, b as ReturnType<typeof randomCompressed>) : referenceDense(a, b as ReturnType<typeof randomDense>);
    const plan =
      force === 'parts'
        ? forcedPlan(shape, pattern!, 'high-sparsity', { m: 64, n: 32, k: 32 }, { m: 8, n: 4 })
        : force === 'split'
          ? { ...forcedPlan(shape, pattern!, 'high-sparsity', { m: 32, n: 32, k: 32 }, { m: 4, n: 4 }), splitK: 3 }
          : force === 'two' || force === 'two-split'
            ? { ...forcedPlan(shape, pattern!, 'high-sparsity', { m: 32, n: 64, k: 64 }, { m: 8, n: 4 }), splitK: force === 'two' ? 1 : 3 }
            : undefined;
    try {
      for (const loads of [{ transposeA: true }, { vectorB: true }, { transposeA: true, vectorB: true }]) {
        backend.kernelOptions = { ...options, ...loads };
        const c = await backend.matmul(a, weights, plan ? { plan } : {});
        const name = backend.lastKernel!;
        expect(name).toMatch(kernel);
        expect(name.includes(' Aᵀ'), name).toBe(loads.transposeA === true);
        expect(name.includes(' vec4-B'), name).toBe(loads.vectorB === true && shape.n % 4 === 0);
        expectClose(c, reference, shape.k, `${name} ${JSON.stringify(loads)}`);
      }
    } finally {
      backend.kernelOptions = {};
      weights.dispose();
    }
  });

  it.each([
    // K = 40: the last window keeps 12 of 8 real rows (kept rows in K padding); 4:32 union lists with unused entries.
    ['12:32, kept rows in K padding', { m: 19, n: 64, k: 40 }, { keep: 12, group: 32, vectorLength: 32 }],
    ['4:32 union rows', { m: 70, n: 128, k: 200 }, { keep: 4, group: 32, vectorLength: 32 }],
  ] as const)('Aᵀ staging: NaN and Inf in A where every weight is pruned never reach C (%s)', async (_, shape, pattern) => {
    const backend = gpu();
    if (!backend) return;
    expect(await expectPoisonHarmless(backend, shape, pattern, { decodeKernel: 'tiled', transposeA: true }, 93)).toMatch(/^spmm-nm-(low|high)-sparsity .* Aᵀ /);
  });

  it.each([
    ['low sparsity 16:32 V=32', { m: 67, n: 131, k: 161 }, { keep: 16, group: 32, vectorLength: 32 }, 'spmm-nm-low-sparsity'],
    ['high sparsity 4:32 V=32 (union rows)', { m: 70, n: 260, k: 333 }, { keep: 4, group: 32, vectorLength: 32 }, 'spmm-nm-high-sparsity'],
    ['high sparsity 8:32 V=64 (block inside one vector)', { m: 33, n: 150, k: 130 }, { keep: 8, group: 32, vectorLength: 64 }, 'spmm-nm-'],
    ['element-wise 2:4 (one slot per column)', { m: 45, n: 77, k: 98 }, { keep: 2, group: 4, vectorLength: 1 }, 'spmm-nm-low-sparsity'],
    ['odd 3:7 V=6', { m: 19, n: 53, k: 301 }, { keep: 3, group: 7, vectorLength: 6 }, 'spmm-nm-low-sparsity'],
    ['decode M=5', { m: 5, n: 300, k: 1000 }, { keep: 8, group: 32, vectorLength: 32 }, 'spmm-nm-decode'],
  ] as const)('%s: smallest and largest tile, with and without split-K and prefetch', async (_, shape, pattern, family) => {
    const backend = gpu();
    if (!backend) return;
    // The smallest and the largest tile (lavapipe compiles each specialisation for a second or more).
    const all = candidatePlans(shape, pattern, limits());
    const plans = [...new Set([all[all.length - 1], all[0]])];
    const kernels = new Set<string>();
    for (const plan of plans) {
      // Two runs per plan keep lavapipe's compile time down: prefetch without split-K, split-K without prefetch.
      kernels.add(await runSparse(shape, pattern, { ...withSplit(plan, 1), stages: 2 }, 7));
      kernels.add(await runSparse(shape, pattern, { ...withSplit(plan, 3), stages: 1 }, 7));
    }
    expect([...kernels].some((k) => k.startsWith(family)), [...kernels].join('\n')).toBe(true);
    // Split-K 3 asked; the kernel clamps it to the stages there are (≥ 2 slices on every shape here).
    expect([...kernels].some((k) => /split-K [2-9]/.test(k)), 'a split-K run').toBe(true);
    // Decode tiles and per-column slots (V % 4 ≠ 0) stage more per invocation than the prefetch registers hold.
    if (family !== 'spmm-nm-decode' && pattern.vectorLength % 4 === 0) expect([...kernels].some((k) => k.includes('prefetch')), 'a register-prefetch run').toBe(true);
  });

  it.each([
    ['32:64 V=32', { keep: 32, group: 64, vectorLength: 32 }, 70, /^spmm-nm-window-parts 1\/4 64×32×16 /],
    ['24:96 V=32', { keep: 24, group: 96, vectorLength: 32 }, 70, /^spmm-nm-window-parts 1\/3 64×32×32 /],
    ['64:128 V=16', { keep: 64, group: 128, vectorLength: 16 }, 70, /^spmm-nm-window-parts 1\/8 64×32×16 /],
    ['8:128 V=32', { keep: 8, group: 128, vectorLength: 32 }, 70, /^spmm-nm-(low|high)-sparsity /],
    ['decode M=5 64:128 V=32', { keep: 64, group: 128, vectorLength: 32 }, 5, /^spmm-nm-decode window-parts 1\/4 /],
    ['decode M=3 128:256 V=64', { keep: 128, group: 256, vectorLength: 64 }, 3, /^spmm-nm-decode window-parts 1\/16 /],
    ['decode M=1 16:32 V=32', { keep: 16, group: 32, vectorLength: 32 }, 1, /^spmm-nm-decode window-parts 1\/2 /],
  ] as const)('long windows (%s) run tiled by default (decode: the tiled decode kernel): parts of windows where they keep > 8 rows (decode: > 2 · tile rows), else whole ones', async (_, pattern, m, kernel) => {
    const backend = gpu();
    if (!backend) return;
    // At M ≤ 16 the stream kernel is the default (test/stream.test.ts); the tiled decode kernel on request.
    expect(await runSparse({ m, n: 200, k: 600 }, pattern, undefined, 11, m <= 16 ? { decodeKernel: 'tiled' } : {})).toMatch(kernel);
  });

  it.each([
    // [what, pattern, block.k, kept rows per stage, shape]
    ['32:64 halves', { keep: 32, group: 64, vectorLength: 32 }, 32, 16, { m: 70, n: 200, k: 600 }],
    ['32:64 quarters, K inside one window', { keep: 32, group: 64, vectorLength: 32 }, 16, 8, { m: 33, n: 70, k: 50 }],
    ['24:96 thirds (block.k 40 → 10 kept, rounded down to a divisor: 8)', { keep: 24, group: 96, vectorLength: 32 }, 40, 8, { m: 65, n: 96, k: 500 }],
    ['64:128 V=64 (a tile inside one vector), eighths', { keep: 64, group: 128, vectorLength: 64 }, 16, 8, { m: 40, n: 150, k: 300 }],
    ['20:64 V=4 (eight vectors per tile), fifths', { keep: 20, group: 64, vectorLength: 4 }, 13, 4, { m: 20, n: 45, k: 200 }],
  ] as const)('window-part stages, forced: %s, single-buffered with split-K and register-prefetched', async (_, pattern, k, kept, shape) => {
    const backend = gpu();
    if (!backend) return;
    const parts = pattern.keep / kept;
    const plan = forcedPlan(shape, pattern, 'high-sparsity', { m: 64, n: 32, k }, { m: 8, n: 4 });
    expect(planStageKept(shape, pattern, plan)).toBe(kept);
    const kernels = [await runSparse(shape, pattern, plan, 41), await runSparse(shape, pattern, { ...plan, splitK: 3, stages: 1 }, 43)];
    expect(kernels.every((kernel) => kernel.startsWith(`spmm-nm-window-parts 1/${parts} `)), kernels.join('\n')).toBe(true);
    expect(kernels[1]).toMatch(/split-K [23]$/);
  });

  it('window-part stages with a forced wave tail and uneven stages per copy', async () => {
    const backend = gpu();
    if (!backend) return;
    // 7 windows in halves: 14 stages, copies of 5, 5 and 4.
    const shape = { m: 150, n: 64, k: 400 };
    const pattern = { keep: 32, group: 64, vectorLength: 32 };
    const plan = forcedPlan(shape, pattern, 'high-sparsity', { m: 64, n: 32, k: 32 }, { m: 8, n: 4 });
    const kernel = await runSparse(shape, pattern, plan, 45, { tail: { rows: 2, splits: 3 } });
    expect(kernel).toMatch(/^spmm-nm-window-parts 1\/2 .* tail 2×3$/);
  });

  it('union rows: the high-sparsity kernel stages fewer A rows than the stage holds', async () => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 64, n: 256, k: 512 };
    const pattern = { keep: 2, group: 32, vectorLength: 32 };
    const plan = candidatePlans(shape, pattern, limits()).find((p) => p.block.n <= 64)!;
    const weights = await backend.prepare(randomCompressed(shape.k, shape.n, pattern, 3));
    const { spec } = await backend.describeKernel(shape, weights, plan);
    weights.dispose();
    expect(spec.shader).toBe('tiled');
    if (spec.shader === 'tiled') {
      expect(spec.constants.UNION).toBe(true);
      expect(spec.constants.A_ROWS).toBeLessThan(spec.constants.BK);
    }
  });

  it('112-row tiles (ragged M), with kept-row chunks of 8 and padded workgroup memory', async () => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 130, n: 150, k: 200 };
    const pattern = { keep: 16, group: 32, vectorLength: 32 };
    const base = candidatePlans(shape, pattern, limits())[0];
    // 112×32 (56 invocations: CPU drivers allow 64 per workgroup here); the H100 default is 112×128.
    const plan: TilingPlan = { ...base, variant: 'low-sparsity', block: { m: 112, n: 32, k: 32 }, thread: { m: 8, n: 8 }, threads: 56, splitK: 1, stages: 2 };
    const kernel = await runSparse(shape, pattern, plan, 24, { columnMap: 'consecutive', keptChunk: 8, sharedPadBytes: 1024 });
    expect(kernel).toContain('112×32×32');
    expect(kernel).toContain('chunk 8 pad 1024 B');
  });

  it('4:32 V=32 union stages of two windows in 8×4 tiles one vector wide: kept order, no slots', async () => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 100, n: 170, k: 300 };
    const pattern = { keep: 4, group: 32, vectorLength: 32 };
    const plan = forcedPlan(shape, pattern, 'high-sparsity', { m: 64, n: 32, k: 64 }, { m: 8, n: 4 });
    const kernel = await runSparse(shape, pattern, plan, 27);
    // A 32-column tile is one vector: its union lists are its kept rows in kept order, read without slots.
    expect(kernel).toMatch(/^spmm-nm-high-sparsity 64×32×64 \(8×4\/invocation, 64 invocations\) prefetch kept-order chunk 2 /);
  });

  it.each([
    ['8:32 two windows in 64-row tiles (64×32×64 here; the H100 candidate is 64×128×64)', 8, 64],
    ['4:32 four windows in 32-row tiles (32×32×128 here; the H100 candidate is 32×128×128)', 4, 32],
  ] as const)('union stages of 16 kept rows in 8×4 tiles, per-vector slot offsets, chunked and not: %s', async (_, keep, m) => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 100, n: 170, k: 300 };
    const pattern = { keep, group: 32, vectorLength: 32 };
    const k = (16 / keep) * 32;
    const plan = forcedPlan(shape, pattern, 'high-sparsity', { m, n: 32, k }, { m: 8, n: 4 });
    for (const keptChunk of [0, 4]) {
      const kernel = await runSparse(shape, pattern, plan, 31, { slotLayout: 'vector-offsets', keptChunk });
      expect(kernel).toContain(`spmm-nm-high-sparsity ${m}×32×${k} (8×4/invocation`);
      expect(kernel).not.toContain('row-slots');
    }
  });

  it.each([
    ['120-row tiles (120×32, 60 invocations; the H100 candidate is 120×128)', 120, 32],
    ['96-column tiles (32×96, 48 invocations; the H100 candidate is 128×96: 3 vectors, swizzled runs of 8 vec4s)', 32, 96],
  ] as const)('16:32 V=32 %s, chunked and not, ragged M and N', async (_, m, n) => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 250, n: 200, k: 200 };
    const pattern = { keep: 16, group: 32, vectorLength: 32 };
    const plan = forcedPlan(shape, pattern, 'low-sparsity', { m, n, k: 32 }, { m: 8, n: 8 });
    for (const keptChunk of [0, 4]) {
      const kernel = await runSparse(shape, pattern, plan, 25, { columnMap: 'consecutive', keptChunk });
      expect(kernel).toContain(`${m}×${n}×32`);
      expect(kernel).toContain('consecutive');
    }
  });

  it.each([
    ['16:32 V=32', { m: 70, n: 190, k: 200 }, { keep: 16, group: 32, vectorLength: 32 }],
    ['4:32 V=32, union over merged windows', { m: 66, n: 200, k: 300 }, { keep: 4, group: 32, vectorLength: 32 }],
    ['8:32 V=64', { m: 35, n: 150, k: 130 }, { keep: 8, group: 32, vectorLength: 64 }],
    ['3:8 V=4 (one slot per 4 columns: two per invocation)', { m: 30, n: 99, k: 120 }, { keep: 3, group: 8, vectorLength: 4 }],
    ['2:4 V=1', { m: 21, n: 70, k: 64 }, { keep: 2, group: 4, vectorLength: 1 }],
  ] as const)('column maps × deep register-prefetched stages: %s', async (_, shape, pattern) => {
    const backend = gpu();
    if (!backend) return;
    // A 64×64 tile with 8×8 per invocation: the consecutive map swizzles sB (runs of 8 vec4s per row).
    const plan = candidatePlans(shape, pattern, limits()).find((p) => p.block.m === 64 && p.block.n === 64)!;
    const deep = backendPlan({ ...plan, splitK: 2 }, pattern, false, { deep: true });
    const kernels: string[] = [];
    // Both column maps; the kept-row loop in chunks of 4 and 8 (where they divide the stage's kept rows).
    for (const options of [{ columnMap: 'consecutive', keptChunk: 4 }, { columnMap: 'split', keptChunk: 8 }] as const) {
      kernels.push(await runSparse(shape, pattern, deep, 21, options));
    }
    expect(kernels[0]).toContain('consecutive');
    expect(kernels[1]).not.toContain('consecutive');
    if (pattern.keep === 16) expect([kernels[0].includes('chunk 4'), kernels[1].includes('chunk 8')]).toEqual([true, true]);
    expect(kernels.every((k) => k.includes('prefetch')), kernels.join('\n')).toBe(true);
    if (pattern.keep === 4) {
      // backendPlan deepens the high-sparsity stage to 4 windows; the union list of the block's vectors still
      // saves rows (single-buffered here: 64 invocations cannot hold a 4-window union stage in prefetch registers).
      const weights = await backend.prepare(randomCompressed(shape.k, shape.n, pattern, 22));
      const { spec } = await backend.describeKernel(shape, weights, { ...deep, stages: 1 });
      weights.dispose();
      expect(spec.shader === 'tiled' && spec.constants.UNION && spec.constants.BK).toBe(128);
    }
  });

  it.each([
    ['16:32 V=32', { m: 70, n: 190, k: 200 }, { keep: 16, group: 32, vectorLength: 32 }],
    ['4:32 V=32, union over merged windows', { m: 66, n: 200, k: 300 }, { keep: 4, group: 32, vectorLength: 32 }],
  ] as const)('partial register prefetch (only A, only B and slots): %s', async (_, shape, pattern) => {
    const backend = gpu();
    if (!backend) return;
    const plan = candidatePlans(shape, pattern, limits()).find((p) => p.block.m === 64 && p.block.n === 64)!;
    const deep = backendPlan({ ...plan, splitK: 2 }, pattern, false, { deep: true });
    const kernels: string[] = [];
    for (const options of [{ columnMap: 'consecutive', prefetch: 'a' }, { columnMap: 'split', prefetch: 'b' }] as const) {
      kernels.push(await runSparse(shape, pattern, deep, 23, options));
    }
    expect([kernels[0].includes('prefetch-a'), kernels[1].includes('prefetch-b')], kernels.join('\n')).toEqual([true, true]);
  });

  it.each([
    ['4:32 V=32 (union rows)', { m: 70, n: 260, k: 333 }, { keep: 4, group: 32, vectorLength: 32 }, true],
    ['8:32 V=32 (union rows)', { m: 45, n: 200, k: 290 }, { keep: 8, group: 32, vectorLength: 32 }, true],
    ['12:32 V=32 (whole windows)', { m: 37, n: 140, k: 200 }, { keep: 12, group: 32, vectorLength: 32 }, false],
    ['2:4 V=1 (per-column slots)', { m: 21, n: 70, k: 64 }, { keep: 2, group: 4, vectorLength: 1 }, false],
  ] as const)('slot layouts (sA rows per 4 columns, sA offsets per vector) × column maps: %s', async (_, shape, pattern, union) => {
    const backend = gpu();
    if (!backend) return;
    const plan = candidatePlans(shape, pattern, limits()).find((p) => p.block.m === 64 && p.block.n === 64 && p.thread.n === 8);
    if (!plan) throw new Error('no 64×64 tile with 8 columns per invocation');
    const kernels: string[] = [];
    for (const options of [
      { columnMap: 'split', slotLayout: 'column-rows' },
      { columnMap: 'split', slotLayout: 'vector-offsets' },
      { columnMap: 'consecutive', slotLayout: 'column-rows' },
    ] as const) {
      // Prefetched and split-K 2 for the first, single-buffered for the others (lavapipe compile time).
      const stages = options.slotLayout === 'column-rows' && options.columnMap === 'split' ? 2 : 1;
      kernels.push(await runSparse(shape, pattern, { ...plan, splitK: 2, stages }, 41, options));
    }
    expect(kernels.map((k) => k.includes('row-slots')), kernels.join('\n')).toEqual([true, false, true]);
    if (union) expect(kernels.every((k) => k.startsWith('spmm-nm-high-sparsity')), kernels.join('\n')).toBe(true);
  });

  it('decode: thread tiles of 4 rows (more invocations) and of the whole row block', async () => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 13, n: 160, k: 256 };
    const pattern = { keep: 8, group: 32, vectorLength: 32 };
    const plan = candidatePlans(shape, pattern, limits()).find((p) => p.block.n === 64)!;
    expect(plan.variant).toBe('decode');
    const four = await runSparse(shape, pattern, { ...plan, thread: { m: 4, n: 4 }, splitK: 2, stages: 2 }, 31);
    expect(four).toContain('(4×4/invocation, 64 invocations)');
    const whole = await runSparse(shape, pattern, { ...plan, thread: { m: 16, n: 4 }, splitK: 1, stages: 1 }, 31);
    expect(whole).toContain('(16×4/invocation, 16 invocations)');
  });

  it.each([
    ['16:32 V=32, ragged M in the tail', { m: 150, n: 200, k: 300 }, { keep: 16, group: 32, vectorLength: 32 } as NMPattern, 2, 3],
    ['4:32 V=32 union rows, every row block a tail, uneven stages', { m: 70, n: 130, k: 333 }, { keep: 4, group: 32, vectorLength: 32 } as NMPattern, 9, 2],
    ['dense', { m: 77, n: 61, k: 93 }, undefined, 1, 4],
  ] as const)('wave-tail split, forced: %s', async (_, shape, pattern, rows, splits) => {
    const backend = gpu();
    if (!backend) return;
    const a = randomDense(shape.m, shape.k, 51);
    const sparse = pattern ? randomCompressed(shape.k, shape.n, pattern, 52) : undefined;
    const dense = pattern ? undefined : randomDense(shape.k, shape.n, 52);
    const weights = sparse ? await backend.prepare(sparse) : await backend.prepareDense(dense!);
    const plan = { ...withSplit(candidatePlans(shape, pattern, limits())[0], 1), stages: 1 };
    backend.kernelOptions = { tail: { rows, splits } };
    try {
      const c = await backend.matmul(a, weights, { plan });
      expectClose(c, sparse ? referenceSpmm(a, sparse) : referenceDense(a, dense!), shape.k, `tail ${rows}×${splits}`);
      expect(backend.lastKernel).toMatch(/ tail \d+×[2-4]$/);
    } finally {
      backend.kernelOptions = {};
      weights.dispose();
    }
  });

  it('general kernel: forced, and ragged', async () => {
    const backend = gpu();
    if (!backend) return;
    const general: TilingPlan = { ...candidatePlans({ m: 9, n: 9, k: 9 }, undefined, limits())[0], variant: 'general' };
    const kernel = await runSparse({ m: 23, n: 41, k: 57 }, { keep: 3, group: 5, vectorLength: 3 }, general, 11);
    expect(kernel).toBe('spmm-nm-general');
  });

  it('dense baseline: tiled, split-K and general agree with the dense reference', async () => {
    const backend = gpu();
    if (!backend) return;
    const a = randomDense(77, 93, 5);
    const b = randomDense(93, 61, 6);
    const weights = await backend.prepareDense(b);
    const ref = referenceDense(a, b);
    const plans = candidatePlans({ m: 77, n: 61, k: 93 }, undefined, limits());
    const seen = new Set<string>();
    for (const plan of [...plans, withSplit(plans[0], 2), { ...plans[0], stages: 2 }, { ...plans[0], stages: 1 }, { ...plans[0], variant: 'general' as const }]) {
      expectClose(await backend.matmul(a, weights, { plan }), ref, 93, `dense ${plan.block.m}×${plan.block.n} split ${plan.splitK}`);
      seen.add(backend.lastKernel!.split(' ')[0]);
    }
    weights.dispose();
    expect([...seen].sort()).toEqual(['matmul-dense-general', 'matmul-dense-tiled']);
  });

  it('indices into K padding never read A past K columns (A beyond K is poison-free by construction)', async () => {
    const backend = gpu();
    if (!backend) return;
    // K = 40 with group 32: the last window has 8 real rows; keep = 12 forces indices into the padding. The tiled
    // kernel (M = 17 would stream by default; test/stream.test.ts poisons A for that one).
    expect(await runSparse({ m: 17, n: 64, k: 40 }, { keep: 12, group: 32, vectorLength: 32 }, undefined, 13, { decodeKernel: 'tiled' })).toMatch(/^spmm-nm-(low|high)-sparsity /);
  });
});
