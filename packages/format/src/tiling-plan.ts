import { LimitError, ShapeError } from './errors.js';
import { density, type NMPattern } from './pattern.js';

/** The GEMM's dimensions: C[M×N] = A[M×K] · B[K×N]. */
export interface MatmulShape {
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

/**
 * Kernel families every backend maps a plan onto:
 * - `low-sparsity`: compute-bound (ρ > ¼): whole windows of A staged, indices in registers, multi-buffered;
 * - `high-sparsity`: memory-bound (ρ ≤ ¼): merged windows, only the A rows some vector of the block uses;
 * - `decode`: M ≤ 16, streams the compressed weights once, split along K to fill the device;
 * - `general`: any pattern and vector length, ragged everything, simplest staging;
 * - `dense`: the dense baseline with the same blocking.
 */
export type KernelVariant = 'low-sparsity' | 'high-sparsity' | 'decode' | 'general' | 'dense';

/**
 * Hierarchical blocking: a block (workgroup / thread block) computes a `block.m × block.n` tile of C, stepping
 * along K by `block.k` dense rows per stage (a multiple of the window); inside it each warp or subgroup owns a
 * `warp.m × warp.n` tile and each thread a `thread.m × thread.n` register tile (outer products per step).
 */
export interface TilingPlan {
  readonly variant: KernelVariant;
  readonly block: { readonly m: number; readonly n: number; readonly k: number };
  readonly warp: { readonly m: number; readonly n: number };
  readonly thread: { readonly m: number; readonly n: number };
  /** Number of K slices computed by separate blocks and summed (1 = no split). */
  readonly splitK: number;
  /** Shared-memory buffers per operand (2 = double buffering). */
  readonly stages: number;
  /** Threads (invocations) per block. */
  readonly threads: number;
}

/** What the planner needs to know about a device. Backends fill it from the adapter / device properties. */
export interface DeviceLimits {
  /** Shared (workgroup) memory a block may use, in bytes. */
  readonly maxSharedMemoryBytes: number;
  readonly maxThreadsPerBlock: number;
  /** Warp or subgroup width (32 on NVIDIA; 1 when there is none). */
  readonly subgroupSize: number;
  /** Multiprocessors / compute units: how many blocks run at once, roughly. */
  readonly computeUnits: number;
}

/** A typical desktop-class GPU, for planning when the device cannot be queried. */
export const DEFAULT_DEVICE_LIMITS: DeviceLimits = {
  maxSharedMemoryBytes: 16384,
  maxThreadsPerBlock: 256,
  subgroupSize: 32,
  computeUnits: 16,
};

/** Block/thread tile configurations, smallest first (the paper's four, plus one for big GPUs). */
const BLOCK_CONFIGS = [
  { block: { m: 32, n: 32 }, thread: { m: 4, n: 4 } },
  { block: { m: 32, n: 64 }, thread: { m: 8, n: 4 } },
  { block: { m: 64, n: 64 }, thread: { m: 8, n: 8 } },
  { block: { m: 64, n: 128 }, thread: { m: 8, n: 8 } },
  { block: { m: 128, n: 128 }, thread: { m: 8, n: 8 } },
] as const;

/** Density at or below which a problem is treated as memory-bound (75 % sparsity and beyond). */
export const HIGH_SPARSITY_DENSITY = 0.25;

/** Decode path threshold: at most this many rows of A. */
export const DECODE_MAX_M = 16;

/**
 * Chooses the kernel variant for a shape and pattern (`undefined` pattern = dense).
 * @example chooseVariant({ m: 4096, n: 4096, k: 4096 }, nmPattern(8, 32, 32)) // 'high-sparsity'
 */
export function chooseVariant(shape: MatmulShape, pattern: NMPattern | undefined): KernelVariant {
  if (!pattern) return 'dense';
  if (shape.m <= DECODE_MAX_M) return 'decode';
  return density(pattern) <= HIGH_SPARSITY_DENSITY ? 'high-sparsity' : 'low-sparsity';
}

/**
 * Dense rows of K per stage: whole windows, about 32 kept rows per stage at low sparsity; at high sparsity
 * windows are merged so a stage still holds enough FMAs to cover its loads.
 */
export function stageDepth(pattern: NMPattern | undefined, variant: KernelVariant): number {
  if (!pattern) return 32;
  const targetKept = variant === 'high-sparsity' ? 16 : 32;
  const windowsPerStage = Math.max(1, Math.round(targetKept / pattern.keep));
  return pattern.group * Math.min(windowsPerStage, Math.max(1, Math.floor(256 / pattern.group)));
}

/** Shared-memory bytes a plan stages per block (A tile for the dense stage rows, compressed B tile, indices). */
export function sharedMemoryBytes(plan: TilingPlan, pattern: NMPattern | undefined): number {
  const keptPerStage = pattern ? Math.ceil((plan.block.k / pattern.group) * pattern.keep) : plan.block.k;
  const aTile = plan.block.m * plan.block.k * 4;
  const bTile = keptPerStage * plan.block.n * 4;
  const indexTile = pattern ? keptPerStage * Math.ceil(plan.block.n / pattern.vectorLength) * 4 : 0;
  return (aTile + bTile + indexTile) * plan.stages;
}

/**
 * Every plan that fits the device, best guess first. Backends with an autotuner time a few of these;
 * the others take {@link planTiling}'s choice.
 */
export function candidatePlans(shape: MatmulShape, pattern: NMPattern | undefined, limits: DeviceLimits): TilingPlan[] {
  assertShape(shape);
  const variant = chooseVariant(shape, pattern);
  const depth = stageDepth(pattern, variant);
  const warpN = Math.max(1, limits.subgroupSize);
  const plans: TilingPlan[] = [];
  for (const config of BLOCK_CONFIGS) {
    const decode = variant === 'decode';
    const blockM = decode ? Math.max(1, Math.min(shape.m, DECODE_MAX_M)) : config.block.m;
    const threadM = decode ? blockM : config.thread.m;
    const threads = (blockM / threadM) * (config.block.n / config.thread.n);
    if (threads > limits.maxThreadsPerBlock || threads < 1 || !Number.isInteger(threads)) continue;
    const warpM = Math.max(threadM, (threadM * warpN * config.thread.n) / Math.min(config.block.n, warpN * config.thread.n));
    const fitted = fitStaging(pattern, depth, limits, (k, stages) => ({
      variant,
      block: { m: blockM, n: config.block.n, k },
      warp: { m: Math.min(blockM, warpM), n: Math.min(config.block.n, warpN * config.thread.n) },
      thread: { m: threadM, n: config.thread.n },
      splitK: 1,
      stages,
      threads,
    }));
    if (fitted) plans.push({ ...fitted, splitK: chooseSplitK(shape, fitted, limits) });
  }
  if (plans.length === 0) {
    throw new LimitError(
      `No tiling plan fits a device with ${limits.maxSharedMemoryBytes} bytes of shared memory and ` +
        `${limits.maxThreadsPerBlock} threads per block for shape ${shape.m}×${shape.n}×${shape.k}.`,
      'use a backend with more shared memory, or the general kernel.',
    );
  }
  // Prefer a tile that stages whole windows over one that fell back to the general kernel (a large tile cannot hold
  // a long window, e.g. 32:64 in 48 KB, where a smaller one can); then the largest tile that still gives every
  // compute unit a block; otherwise the one with the most blocks.
  const tiled = plans.filter((p) => p.variant !== 'general');
  const pool = tiled.length > 0 ? tiled : plans;
  const blocks = (p: TilingPlan) => Math.ceil(shape.m / p.block.m) * Math.ceil(shape.n / p.block.n) * p.splitK;
  const filling = pool.filter((p) => blocks(p) >= limits.computeUnits);
  const ranked = filling.length > 0 ? filling.reverse() : [...pool].sort((x, y) => blocks(y) - blocks(x));
  const rest = plans.filter((p) => !ranked.includes(p));
  return [...ranked, ...rest];
}

/**
 * The planner: one plan for a shape, a pattern (`undefined` for dense) and a device.
 * @example planTiling({ m: 256, n: 4096, k: 4096 }, nmPattern(8, 32, 32), limits).splitK
 */
export function planTiling(shape: MatmulShape, pattern: NMPattern | undefined, limits: DeviceLimits): TilingPlan {
  return candidatePlans(shape, pattern, limits)[0];
}

/**
 * The deepest staging that fits shared memory: double-buffered at the wanted depth if possible, then fewer
 * windows per stage, then single-buffered, then (general kernel only) slices of one window.
 */
function fitStaging(
  pattern: NMPattern | undefined,
  depth: number,
  limits: DeviceLimits,
  make: (k: number, stages: number) => TilingPlan,
): TilingPlan | undefined {
  const step = pattern ? pattern.group : 8;
  for (const stages of [2, 1]) {
    for (let k = depth; k >= step; k -= step) {
      const plan = make(k, stages);
      if (sharedMemoryBytes(plan, pattern) <= limits.maxSharedMemoryBytes) return plan;
    }
  }
  // Windows too long to stage whole (e.g. group 256 in 16 KB): the general kernel walks a window in slices.
  for (let k = Math.min(step, 64); k >= 4; k >>= 1) {
    const plan = { ...make(k, 1), variant: 'general' as const };
    if (sharedMemoryBytes(plan, pattern) <= limits.maxSharedMemoryBytes) return plan;
  }
  return undefined;
}

/** Split-K so that small-M problems still give each compute unit about two blocks; at most 8 slices. */
function chooseSplitK(shape: MatmulShape, plan: TilingPlan, limits: DeviceLimits): number {
  const tiles = Math.ceil(shape.m / plan.block.m) * Math.ceil(shape.n / plan.block.n);
  const stages = Math.ceil(shape.k / plan.block.k);
  let split = 1;
  while (split < 8 && tiles * split < 2 * limits.computeUnits && stages / (split * 2) >= 4) split *= 2;
  return split;
}

/**
 * Checks that every dimension of C = A·B is an integer ≥ 1: a product with an empty dimension has nothing to plan
 * or run, which is a wrong shape, not a limit.
 * @param who what is refusing, for the message (e.g. a backend's name).
 * @throws {ShapeError} naming A's and B's shapes and the dimension that is not an integer ≥ 1.
 * @example assertMatmulDimensions({ m: 0, n: 8, k: 16 }, 'planTiling') // ShapeError: … M=0 …
 */
export function assertMatmulDimensions(shape: MatmulShape, who: string): void {
  for (const key of ['m', 'n', 'k'] as const) {
    const value = shape[key];
    if (Number.isSafeInteger(value) && value >= 1) continue;
    const whole = Number.isSafeInteger(value);
    throw new ShapeError(
      `${who} cannot multiply A ${shape.m}×${shape.k} by B ${shape.k}×${shape.n}: ${key.toUpperCase()}=${value}, ` +
        'but every dimension of C = A·B must be an integer ≥ 1.',
      whole
        ? 'skip empty products (C is M×N zeros when K = 0, and has no elements when M or N is 0).'
        : 'pass whole numbers of rows and columns.',
    );
  }
}

function assertShape(shape: MatmulShape): void {
  assertMatmulDimensions(shape, 'The tiling planner');
}
