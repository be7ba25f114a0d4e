import { density, HIGH_SPARSITY_DENSITY, LimitError, type MatmulShape, type NMPattern, type TilingPlan } from '@nmkit/format';
import type { NativePlan } from './native-types.js';
import { MID_STAGE_KEPT, STAGE_KEPT, TILE_N, WARP_N } from './retile.js';

/** What the planner needs to know about the device (from the addon's probe). */
export interface CudaDevice {
  readonly multiprocessors: number;
  readonly sharedPerBlockOptin: number;
  /**
   * Split-K of the tiled kernel through thread-block clusters (compute capability ≥ 9.0): the splits of a C tile add
   * their partial tiles in distributed shared memory, with no memset of C and no global atomics. Absent: atomics.
   */
  readonly clusters?: boolean;
}

/**
 * Largest M, N or K the addon takes, so its 32-bit index arithmetic cannot overflow: the tiled kernel steps through
 * Aᵀ with a `uint32` byte stride (4 · M rounded up to 16 ≤ 2³⁰) and places a thread's B copies at `row · ldb` in `int`
 * (row ≤ 7: 7 · 2²⁸ < 2³¹); the host walks tall A in row ranges of up to 65535 blocks with `int` offsets. An A that
 * tall with K > 16 is over the 16 GiB buffer limit anyway.
 */
export const MAX_DIMENSION = 2 ** 28;

/** Most split-K slices one cluster reduction takes (native kMaxClusterSplits: the portable cluster size). */
export const MAX_CLUSTER_SPLITS = 8;

/** What the planner needs to know about prepared weights. */
export interface WeightsInfo {
  readonly pattern?: NMPattern;
  readonly keptRows: number;
  /** N rounded up to 4. */
  readonly ldb: number;
  /** Present when the tiled kernels can run (V a multiple of 32). */
  readonly tiled?: { readonly ks: number; readonly srows: number; readonly stages: number; readonly slotStride: number };
}

/** A plan in both forms: the format's {@link TilingPlan} (reports, forcing) and the addon's {@link NativePlan}. */
export interface CudaPlan {
  readonly tiling: TilingPlan;
  readonly native: NativePlan;
}

/**
 * Compiled tiled instances (native/kernels/spmm-nm-*-sparsity.cu): block rows, warp rows, and the pipeline depths
 * compiled for 16-kept-row stages (`stages`) and for the longer stages of weights whose 24 or 32 kept rows span at
 * most 64 rows of A (`longStages`: 12:32, density ≥ ½).
 */
export const TILED_CONFIGS: readonly TiledConfig[] = [
  { bm: 128, wm: 64, slices: 1, stages: [4, 3, 2], longStages: [2], efficiency: 1 },
  { bm: 64, wm: 32, slices: 1, stages: [4, 3], longStages: [3], efficiency: 0.75 },
  { bm: 32, wm: 32, slices: 1, stages: [4, 3], longStages: [4, 2], efficiency: 0.85 },
  // Two warp groups split each stage's kept rows (8 warps per 32-row block): twice the warps per SM for small grids.
  { bm: 32, wm: 32, slices: 2, stages: [4, 3], longStages: [2], efficiency: 0.7 },
];

/** A compiled tiled configuration: block rows, warp rows, K slices and the compiled pipeline depths. */
export interface TiledConfig {
  readonly bm: number;
  readonly wm: number;
  /** Warp groups that split each stage's kept rows and add their tiles at the end (no 24-kept-row instance at 2). */
  readonly slices: number;
  readonly stages: readonly number[];
  readonly longStages: readonly number[];
  /** Rows of C per unit of time relative to the 128-row block, in the cluster split-K cost model ({@link tiledCost}). */
  readonly efficiency: number;
}

/** Threads per block of a tiled configuration (native tiledThreads). */
function tiledThreads(config: TiledConfig): number {
  return (config.bm / config.wm) * (TILE_N / WARP_N) * 32 * config.slices;
}

/** Blocks of a tiled configuration an SM holds at once (its launch bounds: ≤ 128 registers per thread). */
function residentBlocks(config: TiledConfig): number {
  return tiledThreads(config) >= 256 ? 2 : 4;
}

/** The pipeline depths compiled for a configuration at the weights' stage size. */
function compiledStages(config: TiledConfig, tiled: NonNullable<WeightsInfo['tiled']>): readonly number[] {
  if (config.slices > 1 && tiled.ks === MID_STAGE_KEPT) return [];  // 12 kept rows per slice: not compiled
  return tiled.ks > STAGE_KEPT ? config.longStages : config.stages;
}
/** Shared memory of one SM that blocks share (H100/A100: about 228 KB; the opt-in per-block limit is 1 KB less). */
const RESERVED_PER_BLOCK = 1024;

/** Rows of A per streaming block (compiled instances). */
export const STREAM_ROWS: readonly number[] = [1, 2, 4, 8, 16];
/** Columns of C per streaming block. */
export const STREAM_COLUMNS = 128;
/** Threads per streaming block: 8 warps that split the block's K slice between them. */
const STREAM_THREADS = 256;
/** Columns of C per narrow decode block (native kNarrowColumns): one warp-column, one vector. */
export const NARROW_COLUMNS = 32;
/** Warps per narrow decode block (compiled: 8, or 4 for twice the blocks per SM); they take interleaved chunks of 32 kept rows. */
export const NARROW_WARPS: readonly number[] = [8, 4];
/** From this many rows (a block's MT) the narrow kernel gathers from Aᵀ when its grid exceeds one block per SM. */
const NARROW_TRANSPOSED_ROWS = 8;
/** At most this many rows of A go to the decode paths (plans labelled `decode`: narrow or streaming; or the 32-row tile). */
export const DECODE_ROWS = 16;
/**
 * Where the narrow kernel is not the decode choice (V not a multiple of 32, or see {@link narrowFirst}): up to this
 * many rows the streaming kernel, from 5 to {@link DECODE_ROWS} rows the 32-row tile with split-K
 * {@link DECODE_TILED_SPLIT} (before the narrow kernel, the tile beat the streaming kernel at M = 8 and 16 and lost
 * at M ≤ 4: results/decode-rows.json).
 */
const STREAM_DECODE_MAX_ROWS = 4;
/** Split-K of the tiled decode plan: fastest at both widths measured (4096: 128 blocks; 11008: 344). */
const DECODE_TILED_SPLIT = 4;
/** Split-K of the tiled decode candidates the benchmarks also time. */
const DECODE_TILED_SPLITS: readonly number[] = [1, 2, 4, 8, 16];

const DENSE_NATIVE: NativePlan = { kernel: 3, bm: 0, wm: 0, stages: 0, slices: 1, splitK: 1, cluster: 0, rowsPerBlock: 0, windowsPerSplit: 0 };

/**
 * The planner, a documented heuristic (see README): dense → cuBLAS; M ≤ 16 with V a multiple of 32 → the narrow decode
 * kernel (32 columns per block, K whole while the grid gives every SM half a block; Aᵀ gathered from 8 rows on grids
 * above one block per SM; blocks of 4 warps up to 8 rows on grids above two 8-warp blocks per SM), except from 9 rows
 * on grids above two blocks per SM (without cluster split-K: at density > ¼ only); otherwise M ≤ 4 or V not a multiple
 * of 32 → streaming kernel with split-K sized to give every SM 3 (M = 1), 2 (M ≤ 8) or 1 block of 8 warps; 5 ≤ M ≤ 16 → the 32-row tiled kernel with split-K 4 (shallowest pipeline); otherwise the tiled kernel (labelled
 * high-sparsity at ρ ≤ ¼): on devices with cluster split-K (sm_90) the configuration × split-K of least
 * {@link tiledCost}; elsewhere block rows 128 from M ≥ 1024, below that 32 while one wave of 32-row blocks holds the
 * grid, else 64, and split-K (≤ 8, atomics) doubled only while the grid stays within one block per SM and each slice
 * keeps ≥ 8 stages; in both, the deepest pipeline that keeps two blocks per SM.
 * @example planCuda({ m: 256, n: 4096, k: 4096 }, info, { multiprocessors: 132, sharedPerBlockOptin: 232448 }).tiling.splitK
 */
export function planCuda(shape: MatmulShape, weights: WeightsInfo, device: CudaDevice, input: PlanInput = 'dense-matrix'): CudaPlan {
  return cudaCandidatePlans(shape, weights, device, input)[0];
}

/**
 * Where A comes from: `'dense-matrix'` (matmul: row-major, a kernel that reads Aᵀ pays a transpose launch first) or
 * `'device-matrix'` (matmulDevice: A keeps its column form Aᵀ once made, and a chain's tiled and transposed narrow
 * layers write their C in it, so reading Aᵀ costs nothing per call).
 */
export type PlanInput = 'dense-matrix' | 'device-matrix';

/**
 * Every plan that can run, the planner's choice first. Benchmarks time them all (the paper reports the best of all
 * configurations × split-K); the planner's rule is what a user gets without tuning.
 */
export function cudaCandidatePlans(shape: MatmulShape, weights: WeightsInfo, device: CudaDevice, input: PlanInput = 'dense-matrix'): CudaPlan[] {
  const { pattern } = weights;
  if (!pattern) return [{ tiling: denseTiling(), native: DENSE_NATIVE }];
  const plans: CudaPlan[] = [];
  const narrowFits = narrowApplies(shape, weights);
  if (narrowFits && narrowFirst(shape, weights, device)) plans.push(narrowPlan(shape, weights, device, undefined, undefined, input));
  if (weights.tiled && shape.m > STREAM_DECODE_MAX_ROWS && shape.m <= DECODE_ROWS) {
    // Decode rows 5–16: the 32-row tile, shallowest compiled pipeline (fastest there), split-K 4.
    const split = Math.min(DECODE_TILED_SPLIT, Math.max(1, weights.tiled.stages >> 2));
    const config = thirtyTwoRowConfig(Math.ceil(weights.ldb / TILE_N) * split, weights.tiled, device);
    const stages = compiledStages(config, weights.tiled);
    const first = tiledPlan(shape, weights, device, config, stages[stages.length - 1], split);
    if (first) plans.push(first);
  }
  if (weights.tiled && shape.m > DECODE_ROWS) {
    const first = device.clusters ? cheapestTiledPlan(shape, weights, device) : heuristicTiledPlan(shape, weights, device);
    if (first) plans.push(first);
    for (const c of TILED_CONFIGS) {
      for (const stages of compiledStages(c, weights.tiled)) {
        for (const split of TILED_SPLITS) {
          const plan = tiledPlan(shape, weights, device, c, stages, split);
          if (plan && !plans.some((p) => sameNative(p.native, plan.native))) plans.push(plan);
        }
      }
    }
  }
  const stream = streamPlan(shape, weights, device, undefined);
  for (const plan of [stream, ...[0.25, 0.5, 2, 4].map((f) => streamPlan(shape, weights, device, { rows: stream.native.rowsPerBlock, windows: Math.max(1, Math.round(stream.native.windowsPerSplit * f)) }))]) {
    if (!plans.some((p) => sameNative(p.native, plan.native))) plans.push(plan);
  }
  if (narrowFits) {
    const planned = narrowPlan(shape, weights, device, undefined, undefined, input);
    for (const warps of NARROW_WARPS) {
      for (const factor of warps === 8 ? [1, 2, 4, 8] : [1, 2]) {
        const splits = Math.max(1, Math.round(planned.native.splitK * factor));
        const plan = narrowPlan(shape, weights, device, Math.ceil(weights.keptRows / pattern.keep / splits), warps, input);
        if (!plans.some((p) => sameNative(p.native, plan.native))) plans.push(plan);
      }
    }
  }
  if (weights.tiled && shape.m <= DECODE_ROWS) {
    // Decode through the 32-row tile with deep split-K: B streams through the cp.async pipeline and the row lists
    // replace per-row index loads. Tuning candidates after the streaming plans.
    for (const config of TILED_CONFIGS.filter((c) => c.bm === 32)) {
      for (const stages of compiledStages(config, weights.tiled)) {
        for (const split of DECODE_TILED_SPLITS) {
          const plan = tiledPlan(shape, weights, device, config, stages, split);
          if (plan && !plans.some((p) => sameNative(p.native, plan.native))) plans.push(plan);
        }
      }
    }
  }
  return plans;
}

/** Maps a forced {@link TilingPlan} (MatmulOptions.plan) to the addon's form, or throws a LimitError naming why. */
export function nativeFromTiling(plan: TilingPlan, weights: WeightsInfo, device: CudaDevice, shape: MatmulShape, input: PlanInput = 'dense-matrix'): CudaPlan {
  const pattern = weights.pattern;
  if (!pattern || plan.variant === 'dense') return { tiling: denseTiling(), native: DENSE_NATIVE };
  if (plan.variant === 'decode' && plan.block.n === NARROW_COLUMNS) {
    if (!narrowApplies(shape, weights)) {
      throw new LimitError(
        `cuda: the narrow decode kernel (block.n = ${NARROW_COLUMNS}) takes M ≤ ${DECODE_ROWS} and V a multiple of ${NARROW_COLUMNS}; got M = ${shape.m}, ${describeV(pattern)}.`,
        `use block.n = ${STREAM_COLUMNS} (the streaming kernel) for this shape.`,
      );
    }
    const warps = plan.threads / 32;
    if (!NARROW_WARPS.includes(warps)) {
      throw new LimitError(
        `cuda: the narrow decode kernel runs ${NARROW_WARPS.map((w) => w * 32).join(' or ')} threads per block; got threads = ${plan.threads}.`,
        'set threads to 256 (8 warps) or 128 (4 warps).',
      );
    }
    return narrowPlan(shape, weights, device, Math.max(1, Math.round(plan.block.k / pattern.group)), warps, input);
  }
  if (plan.variant === 'decode' || plan.variant === 'general') {
    const rows = plan.block.m;
    if (!STREAM_ROWS.includes(rows)) throw new LimitError(`cuda: streaming plans take block.m ∈ {${STREAM_ROWS.join(', ')}}, got ${rows}.`);
    const windows = Math.max(1, Math.round(plan.block.k / pattern.group));
    return streamPlan(shape, weights, device, { rows, windows });
  }
  const slices = Math.max(1, Math.round(plan.threads / ((plan.block.m / Math.max(1, plan.warp.m)) * (TILE_N / WARP_N) * 32)));
  const config =
    weights.tiled && TILED_CONFIGS.find((c) => c.bm === plan.block.m && c.wm === plan.warp.m && c.slices === slices && compiledStages(c, weights.tiled!).includes(plan.stages));
  if (!weights.tiled || !config || plan.block.n !== TILE_N) {
    throw new LimitError(
      `cuda: no compiled tiled kernel for block ${plan.block.m}×${plan.block.n}, warp ${plan.warp.m}×${plan.warp.n}, ${plan.stages} stages with ${describeV(pattern)}.`,
      `use block.n=${TILE_N} and (block.m, warp.m, threads, stages) in ${TILED_CONFIGS.map((c) => `(${c.bm}, ${c.wm}, ${tiledThreads(c)}, ${(weights.tiled ? compiledStages(c, weights.tiled) : c.stages).join('|')})`).join(', ')}, V a multiple of ${WARP_N}.`,
    );
  }
  const built = tiledPlan(shape, weights, device, config, plan.stages, plan.splitK);
  if (!built) throw new LimitError(`cuda: the ${config.bm}-row tiled plan does not fit ${device.sharedPerBlockOptin} bytes of shared memory.`);
  return built;
}

function describeV(pattern: NMPattern): string {
  return `V=${pattern.vectorLength}`;
}

/** The tiled plan of devices without cluster split-K: block rows by {@link pickTiledConfig}, split-K by tiledPlan's rule. */
function heuristicTiledPlan(shape: MatmulShape, weights: WeightsInfo, device: CudaDevice): CudaPlan | undefined {
  const config = pickTiledConfig(shape.m, Math.ceil(weights.ldb / TILE_N), weights.tiled!, device);
  return tiledPlan(shape, weights, device, config, pickStages(config, weights, device), undefined);
}

/** Split-K of the tiled candidates (and of the cost model's choices; all within MAX_CLUSTER_SPLITS). */
const TILED_SPLITS: readonly number[] = [1, 2, 4, 8];

/** Pipeline fill, prologue and epilogue of a tiled block, in stages ({@link tiledCost}). */
const BLOCK_OVERHEAD_STAGES = 3;
/**
 * Share of the block slots that clusters of eight 128-row blocks can fill at once: 30 clusters (240 blocks) of the
 * H100's 264 slots under every placement policy (results/cluster-split-k-07de0fb/occupancy/). A grid of 256 such
 * blocks (M = 128, N = 4096, split 8) then needs two waves.
 */
const CLUSTER_OF_8_FILL = 240 / 264;
/** The cluster reduction of split-K slices, in stages per resident tile ({@link tiledCost}). */
const REDUCTION_STAGES = 1.5;

/**
 * The cost model of tiled plans on devices with cluster split-K (sm_90), in row-stages of C on the busiest SM:
 * `max(⌈blocks / SMs⌉, resident) · BM · (⌈stages / split⌉ + 3) / efficiency`, plus `1.5 · resident blocks · BM`
 * when a cluster adds up split-K slices. A block does not run faster alone: the busiest SM counts at least as many
 * blocks as it holds, so a grid under one block per SM is no cheaper than one with a block in every slot (which is
 * why split 4 beats split 2 at 256×4096×4096). It sees what the earlier rules missed: wave quantisation
 * (1024 × 5120 × 5120 is 320 tiles of 128 rows, 1.2 waves of two per SM: split 2 balances them) and cheap split-K.
 * Fitted on the H100 to 240 shapes (M = 256, 512 with load-balancing cluster placement, results/confirm-a425b87/, and
 * M = 1024, results/cluster-split-k-07de0fb/; × the paper's 20 (N, K) pairs × 16/12/8/4:32, every tiled candidate
 * timed): its choices run at 98.7 % of the fastest candidate (geometric mean; the best of a grid over the overhead,
 * reduction and efficiency constants), the model before it (a block alone counted as faster, 4 overhead stages, one
 * stage per resident tile for the reduction) at 97.6 %, the rules without clusters at 91 %.
 */
export function tiledCost(shape: MatmulShape, weights: WeightsInfo, device: CudaDevice, config: TiledConfig, split: number): number {
  const tiled = weights.tiled!;
  const blocks = Math.ceil(shape.m / config.bm) * Math.ceil(weights.ldb / TILE_N) * split;
  const resident = residentBlocks(config);
  // Clusters of eight 128-row blocks: only CLUSTER_OF_8_FILL of the block slots can hold them at once.
  const fill = split === 8 && config.bm === 128 ? CLUSTER_OF_8_FILL : 1;
  const busiest = Math.max(Math.ceil(blocks / (device.multiprocessors * fill)), resident);
  const reduction = split > 1 ? REDUCTION_STAGES * resident * config.bm : 0;
  return (busiest * config.bm * (Math.ceil(tiled.stages / split) + BLOCK_OVERHEAD_STAGES)) / config.efficiency + reduction;
}

/** The cheapest compiled tiled plan by {@link tiledCost}: every configuration × {@link TILED_SPLITS} (cluster-reduced). */
function cheapestTiledPlan(shape: MatmulShape, weights: WeightsInfo, device: CudaDevice): CudaPlan | undefined {
  let best: { plan: CudaPlan; cost: number } | undefined;
  for (const config of TILED_CONFIGS) {
    if (compiledStages(config, weights.tiled!).length === 0) continue;
    const stages = pickStages(config, weights, device);
    for (const split of TILED_SPLITS) {
      if (split > weights.tiled!.stages) continue;
      const plan = tiledPlan(shape, weights, device, config, stages, split);
      const cost = tiledCost(shape, weights, device, config, split);
      if (plan && (!best || cost < best.cost)) best = { plan, cost };
    }
  }
  return best?.plan;
}

/**
 * Block rows: 128 from M = 1024; below that 32 (4 warps, four blocks per SM) while one wave of them holds the whole
 * grid, else 64. Measured on the H100 (results/bench.json, 256×4096×4096): 32-row tiles without split-K beat 64-row
 * tiles with split-K by 3–5 % at every density.
 */
function pickTiledConfig(m: number, tilesN: number, tiled: NonNullable<WeightsInfo['tiled']>, device: CudaDevice): TiledConfig {
  if (m >= 1024) return TILED_CONFIGS[0];
  const blocks32 = Math.ceil(m / 32) * tilesN;
  return blocks32 <= 4 * device.multiprocessors ? thirtyTwoRowConfig(blocks32, tiled, device) : TILED_CONFIGS[1];
}

/**
 * The 32-row block, two K slices (8 warps) when the stages hold 16 kept rows and the grid gives at most two blocks per
 * SM: measured on the H100 (candidate timings in results/bench.json and decode.json), sliced 8:32 / 4:32 ran 3–9 %
 * faster at 256×4096×4096 (256 blocks) and in decode at N = 4096 (128 blocks), slower at N = 11008 (344 blocks);
 * with 32- or 24-kept-row stages (ρ ≥ 3/8) slicing was 3–9 % slower.
 */
function thirtyTwoRowConfig(blocks: number, tiled: NonNullable<WeightsInfo['tiled']>, device: CudaDevice): TiledConfig {
  return tiled.ks === STAGE_KEPT && blocks <= 2 * device.multiprocessors ? TILED_CONFIGS[3] : TILED_CONFIGS[2];
}

function stageBytes(bm: number, tiled: NonNullable<WeightsInfo['tiled']>): number {
  return tiled.srows * bm * 4 + tiled.ks * TILE_N * 4 + tiled.slotStride;
}

/**
 * The deepest compiled pipeline that still lets two blocks of 8 warps (four of 4 warps) share an SM's shared memory,
 * else the deepest that fits one. The 128-row tile takes 2 stages: on the H100 it was fastest for every pattern (its
 * 16 kept rows × 64 FMAs per thread per stage already cover the copies, and smaller buffers leave L1 room).
 */
function pickStages(config: TiledConfig, weights: WeightsInfo, device: CudaDevice): number {
  const compiled = compiledStages(config, weights.tiled!);
  if (compiled.length === 1) return compiled[0];
  if (config.bm === 128) return 2;
  const bytes = stageBytes(config.bm, weights.tiled!);
  const perSm = device.sharedPerBlockOptin + RESERVED_PER_BLOCK;
  const blocks = residentBlocks(config);
  const shared = compiled.find((s) => blocks * (s * bytes + RESERVED_PER_BLOCK) <= perSm);
  return shared ?? compiled.find((s) => s * bytes <= device.sharedPerBlockOptin) ?? compiled[compiled.length - 1];
}

function tiledPlan(
  shape: MatmulShape,
  weights: WeightsInfo,
  device: CudaDevice,
  config: TiledConfig,
  stages: number,
  forcedSplit: number | undefined,
): CudaPlan | undefined {
  const tiled = weights.tiled!;
  const pattern = weights.pattern!;
  const high = density(pattern) <= HIGH_SPARSITY_DENSITY;
  if (stageBytes(config.bm, tiled) * stages > device.sharedPerBlockOptin) return undefined;
  const tiles = Math.ceil(shape.m / config.bm) * Math.ceil(weights.ldb / TILE_N);
  let split = forcedSplit ?? 1;
  if (forcedSplit === undefined) {
    // Measured on the H100: split-K pays only while the grid leaves SMs idle; past one block per SM its memset and
    // atomics cost more than the extra blocks bring (256×4096×4096: split 1 beat split 2 at every density).
    while (split < 8 && tiles * split * 2 <= device.multiprocessors && tiled.stages / (split * 2) >= 8) split *= 2;
  }
  split = Math.max(1, Math.min(split, tiled.stages));
  const threads = tiledThreads(config);
  const keptPerWindow = pattern.keep;
  const denseRowsPerStage = Math.max(1, Math.round((tiled.ks / keptPerWindow) * pattern.group));
  return {
    tiling: {
      variant: high ? 'high-sparsity' : 'low-sparsity',
      block: { m: config.bm, n: TILE_N, k: denseRowsPerStage },
      warp: { m: config.wm, n: WARP_N },
      thread: { m: config.wm / 8, n: 8 },
      splitK: split,
      stages,
      threads,
    },
    native: {
      kernel: stages >= 4 ? 0 : 1,
      bm: config.bm,
      wm: config.wm,
      stages,
      slices: config.slices,
      splitK: split,
      cluster: split > 1 && split <= MAX_CLUSTER_SPLITS && device.clusters ? 1 : 0,
      rowsPerBlock: 0,
      windowsPerSplit: 0,
    },
  };
}

function streamPlan(
  shape: MatmulShape,
  weights: WeightsInfo,
  device: CudaDevice,
  forced: { rows: number; windows: number } | undefined,
): CudaPlan {
  const pattern = weights.pattern!;
  const rows = forced?.rows ?? STREAM_ROWS.find((r) => r >= Math.min(shape.m, DECODE_ROWS))!;
  const windows = Math.ceil(weights.keptRows / pattern.keep);
  const columnBlocks = Math.ceil(weights.ldb / STREAM_COLUMNS);
  const rowBlocks = Math.ceil(shape.m / rows);
  // Split K until every SM has about two blocks; the A slice of a block must fit shared memory.
  const sliceBytes = Math.min(device.sharedPerBlockOptin, 96 * 1024) - rows * STREAM_COLUMNS * 4;
  const maxWindows = Math.max(1, Math.floor(sliceBytes / (rows * pattern.group * 4)));
  let perSplit = forced?.windows;
  if (perSplit === undefined) {
    // Few rows: split-K is cheap (few atomics) and memory parallelism is what counts; more rows: fewer atomics.
    // Measured on the H100 (decode rows of results/decode.json): about 3 blocks per SM for one row, 2 up to 8 rows,
    // 1 for 16 (each split adds M·N global atomics).
    const perSm = rows <= 1 ? 3 : rows <= 8 ? 2 : 1;
    const wanted = Math.max(1, Math.ceil((perSm * device.multiprocessors) / (columnBlocks * rowBlocks)));
    perSplit = Math.max(1, Math.ceil(windows / wanted));
  }
  perSplit = Math.max(1, Math.min(perSplit, maxWindows, windows));
  const splits = Math.ceil(windows / perSplit);
  const variant = shape.m <= DECODE_ROWS ? 'decode' : 'general';
  return rowBlockPlan({ variant, kernel: 2, slices: 1, rows, columns: STREAM_COLUMNS, threadColumns: 4, stages: 1, threads: STREAM_THREADS }, pattern, perSplit, splits);
}

/** What distinguishes the kernels whose blocks hold all rows of A they multiply (streaming and narrow). */
interface RowBlockKernel {
  readonly variant: 'decode' | 'general';
  readonly kernel: 2 | 4 | 5;
  /** The addon's `slices`: warps per narrow block; 1 for the streaming kernel. */
  readonly slices: number;
  /** Rows of A per block (the kernel's MT). */
  readonly rows: number;
  readonly columns: number;
  readonly threadColumns: number;
  readonly stages: number;
  readonly threads: number;
}

/** A streaming or narrow plan: `perSplit` windows of K per block, `splits` blocks along K. */
function rowBlockPlan(k: RowBlockKernel, pattern: NMPattern, perSplit: number, splits: number): CudaPlan {
  return {
    tiling: {
      variant: k.variant,
      block: { m: k.rows, n: k.columns, k: perSplit * pattern.group },
      warp: { m: k.rows, n: k.columns },
      thread: { m: k.rows, n: k.threadColumns },
      splitK: splits,
      stages: k.stages,
      threads: k.threads,
    },
    native: { kernel: k.kernel, bm: 0, wm: 0, stages: 0, slices: k.slices, splitK: splits, cluster: 0, rowsPerBlock: k.rows, windowsPerSplit: perSplit },
  };
}

/**
 * Whether the narrow kernel is the planner's decode choice: always up to 8 rows; from 9 rows not when the narrow grid
 * exceeds two blocks per SM (without cluster split-K: only at density above ¼). Measured on the H100 (results/decode-rows.json, M = 1, 2, 4,
 * 8, 16 at N = 4096 and 11008, every candidate timed): the narrow kernel was fastest in 38 of 40 rows, by up to 1.9×
 * over the streaming kernel and up to 1.6× over the 32-row tile; the tile kept 16:32 and 12:32 at 16 × 11008 (by
 * 7–13 %), where 16 FMAs per kept row and lane over 344 blocks of 8 warps leave the narrow kernel short of issue slots.
 */
function narrowFirst(shape: MatmulShape, weights: WeightsInfo, device: CudaDevice): boolean {
  if (shape.m <= 8) return true;
  const fewColumnBlocks = Math.ceil(weights.ldb / NARROW_COLUMNS) <= 2 * device.multiprocessors;
  // With cluster split-K (no memset, no atomics) the tile's split 4 also beat the narrow kernel at 8:32 and 4:32 there
  // (16 × 11008 at c4ba5db, results/confirm-c4ba5db/decode.md: 0.036 vs 0.040 ms and 0.023 vs 0.025 ms).
  if (device.clusters) return fewColumnBlocks;
  return density(weights.pattern!) <= HIGH_SPARSITY_DENSITY || fewColumnBlocks;
}

/** The narrow decode kernel applies: few rows and one vector per 32-column block. */
function narrowApplies(shape: MatmulShape, weights: WeightsInfo): boolean {
  return weights.pattern !== undefined && shape.m <= DECODE_ROWS && weights.pattern.vectorLength % NARROW_COLUMNS === 0;
}

/**
 * The narrow decode kernel (32 columns per block, the weights streamed once, A gathered by index): K whole while the
 * column blocks give every SM at least half a block, else split so that each SM gets about one (atomics into a
 * zeroed C). `windowsPerSplit` forces the split (benchmarks, forced plans); `forcedWarps` the warps per block (8 or
 * 4; by default 4 where 8-warp blocks would need more than one wave).
 */
function narrowPlan(
  shape: MatmulShape,
  weights: WeightsInfo,
  device: CudaDevice,
  windowsPerSplit: number | undefined,
  forcedWarps: number | undefined,
  input: PlanInput,
): CudaPlan {
  const pattern = weights.pattern!;
  const rows = STREAM_ROWS.find((r) => r >= Math.min(shape.m, DECODE_ROWS))!;
  const windows = Math.ceil(weights.keptRows / pattern.keep);
  const columnBlocks = Math.ceil(weights.ldb / NARROW_COLUMNS);
  // Blocks of 4 warps where 8-warp blocks (two per SM up to 8 rows) would need more than one wave: measured on the
  // H100 (results/decode-4-warps-03362e0/decode.md), N = 11008 at M = 1 and 8: 4 warps 7–22 % faster (344 blocks in
  // one wave of four per SM); N = 4096 (128 blocks): 8 warps 2–12 % faster; M = 16 within ±7 % either way (8 kept).
  const warps = forcedWarps ?? (rows <= 8 && columnBlocks > 2 * device.multiprocessors ? 4 : 8);
  const blocks = columnBlocks * Math.ceil(shape.m / rows);
  // K whole while the blocks give every SM at least half a block (measured: split-K's memset and atomics cost more
  // than the extra loads in flight bring at N = 4096 and 11008), else about one block per SM.
  const wanted = 2 * blocks >= device.multiprocessors ? 1 : Math.ceil(device.multiprocessors / blocks);
  const perSplit = Math.max(1, Math.min(windows, windowsPerSplit ?? Math.ceil(windows / wanted)));
  const splits = Math.ceil(windows / perSplit);
  // Gathering MT ≥ 8 values per kept row from row-major A reads MT sectors from L2 per kept row and block; from Aᵀ one
  // run. Measured: worth its transpose launch once the grid passes one block per SM (N = 11008: 4–15 % faster), not
  // at N = 4096 (5–15 % slower). A device matrix keeps its Aᵀ, so there it is free and Aᵀ wins at N = 4096 too: M = 8
  // 8 / 12 / 15 / 19 % faster at 16 / 12 / 8 / 4:32, M = 16 −5 / +2 / +9 / +23 %
  // (results/experiments-2026-11-25/narrow-columns/).
  const transposed = rows >= NARROW_TRANSPOSED_ROWS && (input === 'device-matrix' || columnBlocks > device.multiprocessors);
  const kernel = transposed ? 5 : 4;
  return rowBlockPlan({ variant: 'decode', kernel, slices: warps, rows, columns: NARROW_COLUMNS, threadColumns: 1, stages: 2, threads: warps * 32 }, pattern, perSplit, splits);
}

function denseTiling(): TilingPlan {
  return { variant: 'dense', block: { m: 0, n: 0, k: 0 }, warp: { m: 0, n: 0 }, thread: { m: 0, n: 0 }, splitK: 1, stages: 0, threads: 0 };
}

function sameNative(a: NativePlan, b: NativePlan): boolean {
  return (
    a.kernel === b.kernel && a.stages === b.stages && a.bm === b.bm && a.wm === b.wm && a.slices === b.slices && a.splitK === b.splitK && a.cluster === b.cluster &&
    a.rowsPerBlock === b.rowsPerBlock && a.windowsPerSplit === b.windowsPerSplit
  );
}
