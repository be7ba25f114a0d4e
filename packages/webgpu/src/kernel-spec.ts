import { DECODE_MAX_M, type DeviceLimits, type MatmulShape, type NMPattern, stageDepth, type TilingPlan } from '@nmkit/format';
import type { GpuContext } from './gpu-context.js';
import { fitsGrid, STREAM_MAX_M, type StreamOptions, type StreamSpec, type TransposedA, transposeFits } from './stream-spec.js';
import { keptOrderLists } from './union-rows.js';

/** Pipeline constants of spmm-nm-tiled.wgsl (names match its `override` declarations). */
export interface TiledConstants {
  readonly BM: number;
  readonly BN: number;
  readonly TM: number;
  readonly TN: number;
  readonly KEEP: number;
  readonly GROUP: number;
  readonly VEC: number;
  readonly BK: number;
  readonly KEPT: number;
  readonly A_ROWS: number;
  readonly SLOT_MODE: 0 | 1 | 2;
  readonly UNION: boolean;
  /** Columns per slot entry: 1 (per-column slots), 4, V, or BN (a block inside one vector). */
  readonly SLOT_COLS: number;
  readonly SLOTS_PER_ROW: number;
  /** Invocation columns: 0 two halves of the tile, 1 consecutive (one vector: one slot, one set of A reads). */
  readonly COLMAP: 0 | 1;
  /** Slots hold sA offsets (row · stride, premultiplied when staged) instead of sA rows (multiplied at use). */
  readonly SLOT_OFFSETS: boolean;
  readonly WG: number;
  /** Register double buffering: the next stage's loads are in flight during this stage's FMAs. */
  readonly PREFETCH: boolean;
  /** With PREFETCH: which parts go through registers (A; B and slots); a part that does not is loaded after the FMAs. */
  readonly PREFETCH_A: boolean;
  readonly PREFETCH_B: boolean;
  readonly A_TRIPS: number;
  readonly B_TRIPS: number;
  readonly S_TRIPS: number;
  /** > 0: the kept-row loop is unrolled KCHUNK rows at a time (KEPT % KCHUNK == 0); 0: the whole stage. */
  readonly KCHUNK: number;
  /** Unused words after sSlot (N:M kernels): `kernelOptions.sharedPadBytes`, an occupancy experiment; 0 by default. */
  readonly PAD_WORDS: number;
  /** Constant stage trip count (unrollable); false on CPU drivers, whose LLVM compile of unrolled tiles takes seconds. */
  readonly UNROLL: boolean;
  /** The wave-tail split is compiled in ({@link WaveTail}); off, the kernel is exactly the one without it. */
  readonly TAIL: boolean;
  /** A is staged from an Aᵀ copy (one vec4 per 4 rows of the tile; {@link KernelOptions.transposeA}). */
  readonly A_T: boolean;
  /** B is staged as vec4 loads (N % 4 == 0; {@link KernelOptions.vectorB}). */
  readonly B_VEC: boolean;
}

/**
 * How an invocation's TN columns are laid out: `split` (at 4·tx and 4·tx + BN/2) or `consecutive` (TN
 * adjacent columns, swizzled sB). `consecutive` lets N:M kernels with V ≥ TN read one slot and one set of A
 * values per kept row instead of one per column group.
 */
export type ColumnMap = 'split' | 'consecutive';

/**
 * What a staged slot entry holds and how many columns it serves: `vector-offsets` one entry per vector (or per
 * block inside one vector) holding the sA offset of the row (row · stride, multiplied once per stage);
 * `column-rows` one entry per 4 columns (V % 4 == 0) holding the sA row, multiplied at each use (the form of
 * the run-4 kernel). Per-column slots (V % 4 ≠ 0) keep one entry per column either way.
 */
export type SlotLayout = 'vector-offsets' | 'column-rows';

/** Backend-level kernel choices that are not part of the shared plan (benchmarks and tests set them). */
export interface KernelOptions {
  /** Default: `consecutive` for one slot per 4 or more columns (V % 4 == 0), else `split` (see {@link ColumnMap}). */
  readonly columnMap?: ColumnMap;
  /**
   * Default: `column-rows` for union (high-sparsity) stages at ≤ 1/8 density (4:32) with the split column map
   * and 8 columns per invocation, else `vector-offsets` (see {@link SlotLayout}).
   */
  readonly slotLayout?: SlotLayout;
  /**
   * Unroll the stage's kept-row loop this many rows at a time (used when it divides the stage's kept rows; 0: the
   * whole stage). Default: 4 for whole-window (or window-part) stages of 12 or 16 kept rows, of 8 with the consecutive map and 8 columns
   * per invocation, and for 4:32-density union stages of 8 kept rows in 8×4 tiles (measured faster on the H100), else 0.
   */
  readonly keptChunk?: number;
  /**
   * Which staging loads of a register-prefetched plan are issued before the stage's FMAs (`all`, the default),
   * only A's (`a`), only B's and the slots (`b`); the rest are loaded after the FMAs, so their registers are not
   * live across them (fewer registers per invocation, the latency exposed).
   */
  readonly prefetch?: PrefetchParts;
  /**
   * Extra workgroup memory (bytes, rounded up to words) after the slots of an N:M kernel, never read: an experiment
   * on how workgroup memory per workgroup limits the workgroups an SM runs at once. Default 0.
   */
  readonly sharedPadBytes?: number;
  /**
   * The wave-tail split ({@link WaveTail}): `false` never; `{ rows, splits }` the last `rows` row blocks in `splits`
   * copies (tests, benchmarks; not for split-K or decode plans, and shrunk to the row blocks and stages there are).
   * Default: {@link waveTail} on GPUs ({@link vectorTileTail} for one-vector tiles), none on CPU drivers.
   */
  readonly tail?: false | { readonly rows: number; readonly splits: number };
  /**
   * The kernel for small M where the stream kernel can run it (N % 4 == 0; spmm-nm-stream.wgsl): `stream`
   * (up to 64 rows of C) or `tiled` (spmm-nm-tiled.wgsl). Default: `stream` up to `streamDefaultRows` (16–64 by
   * density) for the backend's own plans and for the plan `check()` reports; any other forced plan runs tiled unless
   * this says `stream`.
   */
  readonly decodeKernel?: 'stream' | 'tiled';
  /** Sizes of the stream kernel (default: sized to the device, see `streamSpec`). */
  readonly stream?: StreamOptions;
  /**
   * Tiled kernel: stage A from an Aᵀ copy written by a pass before the kernel (one vec4 load per 4 rows of the tile
   * instead of 4 scalar loads from 4 rows of A), where the copy fits one storage binding. The copy is a temporary of
   * each call as large as A with M padded to whole row blocks (at most 127 rows more). Default: on GPUs, except for
   * wave-tailed tiles at the edge of their register budget (see `tightRegisters`); off on CPU drivers.
   */
  readonly transposeA?: boolean;
  /** Tiled kernel: stage B as vec4 loads where N % 4 == 0 (instead of 4 scalar loads). Default: on GPUs, off on CPU drivers. */
  readonly vectorB?: boolean;
  /**
   * The backend's own plans: one-vector tiles where they apply (`vectorTilePlan` in kernel-spec.ts; default `true`).
   * `false` plans the tiles before them, for comparisons.
   */
  readonly vectorTiles?: boolean;
}

/**
 * Wave-tail split of a large grid: the last `rows` row blocks of the grid run as `splits` copies each, every copy
 * taking `stagesPerSplit` of the stages, so the last wave (otherwise a few tiles on a partly idle GPU) becomes
 * shorter work items on every compute unit. Copy 0 writes C; the others write partials that split-tail-reduce.wgsl
 * adds in.
 */
export interface WaveTail {
  /** First row block of the tail, and its first row of C. */
  readonly rowBlock: number;
  readonly firstRow: number;
  readonly rows: number;
  readonly splits: number;
  readonly stagesPerSplit: number;
}

/** See {@link KernelOptions.prefetch}. */
export type PrefetchParts = 'all' | 'a' | 'b';

/** Largest per-invocation staging load count the prefetch registers hold (rA, rB, rS in the WGSL). */
export const MAX_PREFETCH_TRIPS = 8;

/** How one multiplication runs: which shader, its constants, the grid and the split-K reduction. */
export type KernelSpec =
  | {
      readonly shader: 'tiled';
      readonly constants: TiledConstants;
      readonly grid: readonly [number, number, number];
      /** K stages in total and per split-K slice. */
      readonly stages: number;
      readonly stagesPerSplit: number;
      readonly splitK: number;
      /** The wave-tail split, when the grid runs one (split-K 1 only). */
      readonly tail?: WaveTail;
      /** With A_T: the Aᵀ copy (rows K + 1, the last one zero; M padded to whole row blocks). */
      readonly transposed?: TransposedA;
      readonly sharedBytes: number;
      /** Human-readable kernel name, e.g. `spmm-nm-high-sparsity 128×128×32 (8×8) split-K 1`. */
      readonly name: string;
    }
  | {
      readonly shader: 'general';
      readonly constants: { readonly KEEP: number; readonly GROUP: number; readonly VEC: number; readonly DENSE: boolean };
      readonly grid: readonly [number, number, number];
      readonly stages: 1;
      readonly stagesPerSplit: 1;
      readonly splitK: 1;
      readonly sharedBytes: 0;
      readonly name: string;
    }
  | StreamSpec;

/** Widest B (N) for which 8:32 union stages take two windows in 64×128 tiles (run 63; one window in 128×128 above). */
const UNION16_MAX_N = 5120;

/** Threshold for the union-row variant: use it only if it stages at most this fraction of the stage's A rows. */
export const UNION_WORTH_IT = 0.875;

/** Workgroup memory of the tiled kernel for given constants (must match the WGSL declarations). */
export function tiledSharedBytes(
  c: Pick<TiledConstants, 'A_ROWS' | 'BM' | 'KEPT' | 'BN' | 'SLOT_MODE' | 'SLOTS_PER_ROW'> & { readonly PAD_WORDS?: number },
): number {
  // sSlot is declared KEPT × SLOTS_PER_ROW (+ padding) words whatever SLOT_MODE (unused without slots, still allocated).
  return c.A_ROWS * (c.BM / 4 + 1) * 16 + c.KEPT * c.BN * 4 + (c.KEPT * c.SLOTS_PER_ROW + (c.PAD_WORDS ?? 0)) * 4;
}

/** The plan reported when no tiled plan fits: the general kernel, 16×16 invocations, one output each. */
export function generalPlan(): TilingPlan {
  return {
    variant: 'general',
    block: { m: 16, n: 16, k: 1 },
    warp: { m: 1, n: 16 },
    thread: { m: 1, n: 1 },
    splitK: 1,
    stages: 1,
    threads: 256,
  };
}

/** The general kernel's spec (any pattern, any shape; one output per invocation). */
export function generalSpec(shape: MatmulShape, pattern: NMPattern | undefined): KernelSpec {
  return {
    shader: 'general',
    constants: { KEEP: pattern?.keep ?? 1, GROUP: pattern?.group ?? 1, VEC: pattern?.vectorLength ?? 1, DENSE: !pattern },
    grid: [Math.ceil(shape.n / 16), Math.ceil(shape.m / 16), 1],
    stages: 1,
    stagesPerSplit: 1,
    splitK: 1,
    sharedBytes: 0,
    name: pattern ? 'spmm-nm-general' : 'matmul-dense-general',
  };
}

/**
 * Maps a shared {@link TilingPlan} onto the tiled WGSL kernel: tile sizes become override constants, the
 * stage depth shrinks (whole windows at a time) until the workgroup memory fits, the decode plan (M ≤ 16)
 * becomes a one-row-block tile with TM = M rounded up to 4. `unionRows` is the longest per-block union list
 * when the caller has built one for this plan (high sparsity; window parts, which always stage union lists). Falls
 * back to the general kernel when the plan cannot be expressed (tile shapes, workgroup memory, grid limits). Decode tiles take the plan's
 * `thread.m` when it is a multiple of 4 dividing the row block (else the whole block: TM = M rounded to 4).
 * `splitKSizing`: `'plan'` takes the plan's split-K as given (a forced plan); `'waves'` sizes it to the device's
 * waves ({@link waveSplitK}, at M ≤ 64 at least {@link fillSplitK}; decode tiles of 4 rows: {@link decodeSplitK}), for
 * the backend's own plans.
 */
export function kernelSpec(
  shape: MatmulShape,
  pattern: NMPattern | undefined,
  plan: TilingPlan,
  context: Pick<GpuContext, 'limits' | 'maxWorkgroupsPerDimension' | 'maxBindingBytes'> & { readonly software?: boolean; readonly multiprocessors?: number },
  unionRows?: number,
  options: KernelOptions = {},
  splitKSizing: 'plan' | 'waves' = 'plan',
): KernelSpec {
  if (plan.variant === 'general') return generalSpec(shape, pattern);
  const keep = pattern?.keep ?? 1;
  const group = pattern?.group ?? 1;
  const vec = pattern?.vectorLength ?? 1;
  const decode = plan.variant === 'decode';
  const { bm, tm, bn, tn, threads, expressible } = tileShape(shape, plan, context.limits.maxThreadsPerBlock);
  if (!expressible) return generalSpec(shape, pattern);

  const slotMode: 0 | 1 | 2 = !pattern ? 0 : vec % 4 === 0 ? 1 : 2;
  // The sB swizzle of consecutive columns permutes runs of 8 vec4s: whole runs per row (or one group per invocation).
  // (TN = 4: one group per invocation, both maps are the same; left at 0 so that both share one pipeline.)
  // Default map (H100, run 6): consecutive for whole-window stages with one slot per ≥ 4 columns (12:32 −7 %,
  // 16:32 −1…−2 %), split for union stages (4:32 −5 %), dense and per-column slots (neutral or better).
  const colMapFor = (isUnion: boolean): 0 | 1 => {
    const columnMap = options.columnMap ?? (slotMode === 1 && !isUnion ? 'consecutive' : 'split');
    return columnMap === 'consecutive' && tn === 8 && (bn / 4) % 8 === 0 ? 1 : 0;
  };
  // Slot layout, measured on the H100 (run 7, both layouts in one run): union stages at ≤ 1/8 density (4:32)
  // in 8-column invocation tiles with the split map keep the run-4 form, one sA row per 4 columns multiplied at
  // use (128×128×32: 1.06 vs 1.18 ms at 4096³, 1.53 vs 1.76 at 2048×11008×4096; 128×128×128 −1…−3 %);
  // everything else per-vector offsets (8:32 union 128×128×32 +3…+4 % and 4×4 tiles +4…+7 % with row slots;
  // the consecutive map needs one entry per vector: one slot per invocation).
  const slotsFor = (isUnion: boolean, colMap: 0 | 1, kept: number) => {
    // Run 9: 8×4 invocation tiles of 8:32-density stages of one window (union or whole windows) also read rows per 4
    // columns (128×128×32: 1.616 vs 1.645 ms at 4096³, 2.049 vs 2.068 at 2048×11008×4096, 0.132 vs 0.135 at
    // 256×4096²); stages of two windows (16 kept rows, run 63) one offset per vector, as 4:32.
    const rowSlots =
      (isUnion && colMap === 0 && slotMode === 1 && tn === 8 && keep * 8 <= group) ||
      (!decode && slotMode === 1 && tn === 4 && keep * 4 === group && kept < 16);
    const layout = options.slotLayout ?? (rowSlots ? 'column-rows' : 'vector-offsets');
    // One slot entry per vector when the block holds whole vectors (or lies inside one), else per 4 columns.
    const wide = slotMode === 1 && layout === 'vector-offsets';
    const cols = slotMode === 2 ? 1 : wide && bn % vec === 0 ? vec : wide && vec % bn === 0 ? bn : 4;
    return { cols, perRow: bn / cols, offsets: slotMode === 0 || layout === 'vector-offsets' };
  };
  // Kept-row chunks of 4 by default for whole-window stages of 12 or 16 kept rows, and of 8 in 8-column invocation
  // tiles with the consecutive map (H100 runs 7 and 9: 12:32 128×128×32 1.850 vs 1.955 ms; 16:32 112×128×32 2.677
  // vs 2.831, 64×128×32 8×4 3.087 vs 3.486; 8:32 whole windows 128×128×32 2.279 vs 2.392 at 2048×11008×4096, but
  // 8×4 tiles of 8 kept rows slower chunked: 2.512 vs 2.068); not decode, union or per-column stages.
  const chunkFor = (kept: number, isUnion: boolean, colMap: 0 | 1, ordered: boolean) => {
    const wholeWindows = !decode && !isUnion && slotMode === 1;
    // Run 10: union stages of 8 kept rows at 1/8 density (4:32, two windows) in 8×4 tiles, chunks of 4 (see backendPlan);
    // run 63: 8:32's two-window stages (16 kept rows) the same.
    const union8 = !decode && isUnion && slotMode === 1 && tn === 4 && kept === 8 && keep * 8 === group;
    const union16 = !decode && isUnion && slotMode === 1 && tn === 4 && kept === 16 && keep * 4 === group;
    // Kept-order union stages (one-vector blocks): chunks of 2 at 8 kept rows, 4 from 16 (run 70: 4096³ 4:32 0.594 ms
    // against 0.632 unchunked and 0.726 in chunks of 4; 512×4096² 16 kept rows in chunks of 4 0.101, of 2 0.102).
    // 12 kept rows (12:32 whole windows): chunks of 4 (1.561 against 1.607 ms in chunks of 2 at 4096³, run 71).
    if (ordered && options.keptChunk === undefined) return kept >= 12 && kept % 4 === 0 ? 4 : kept % 2 === 0 && kept > 2 ? 2 : 0;
    const chunked = union8 || union16 || (wholeWindows && (kept === 12 || kept === 16 || (kept === 8 && tn === 8 && colMap === 1)));
    const chunk = options.keptChunk ?? (chunked ? 4 : 0);
    return chunk > 0 && chunk < kept && kept % chunk === 0 ? chunk : 0;
  };
  const windows = Math.ceil(shape.k / group);
  // Slots are bytes: a stage holds at most 256 dense rows of K (the planner never asks for more).
  let stageWindows = planStageWindows(shape, pattern, plan);
  // Window parts (long windows): a stage is `parts`-th of every window, by kept rank, and always a union stage (the
  // lists are what make a part of a window a set of A rows). Else whole windows, union where it saves rows.
  const parts = pattern ? pattern.keep / planStageKept(shape, pattern, plan) : 1;
  let union = pattern !== undefined && unionRows !== undefined && (parts > 1 || unionRows <= UNION_WORTH_IT * stageWindows * group);
  const inParts = () => union && parts > 1; // `union` may still drop below (lists that do not fit)
  const constantsFor = (sw: number): TiledConstants => {
    const partStages = inParts();
    const kept = partStages ? keep / parts : sw * keep;
    const aRows = union ? unionRows! : sw * group;
    // Union lists of a block inside one vector are in kept order (buildUnionRows): kept row w reads staged row w, as
    // dense stages do, so no slots are staged or read (SLOT_MODE 0).
    // Only one-vector tiles (32 columns, not decode) read them so; wider blocks inside one vector (V = 64, 128) keep
    // their slots (positions in the same lists) and the choices measured for them.
    const ordered = union && slotMode === 1 && !decode && bn === 32 && keptOrderLists(pattern!, bn) && unionRows! >= kept;
    const mode = ordered ? 0 : slotMode;
    // Part-window stages hold as many kept rows as whole-window ones at low sparsity: their map, slots and chunks.
    const unionChoices = union && !partStages;
    const colMap = ordered ? colMapFor(false) : colMapFor(unionChoices);
    const slots = ordered ? { cols: bn, perRow: 1, offsets: true } : slotsFor(unionChoices, colMap, kept);
    const trips = [aRows * (bm / 4), kept * (bn / 4), mode === 0 ? 0 : kept * slots.perRow].map((n) => Math.ceil(n / threads));
    // plan.stages ≥ 2 asks for double buffering; WGSL has no async copies, so it is done through registers
    // (no second workgroup buffer), when the per-invocation load counts fit the prefetch registers.
    const prefetch = plan.stages >= 2 && trips.every((t) => t <= MAX_PREFETCH_TRIPS);
    const prefetchA = !prefetch || (options.prefetch ?? 'all') !== 'b';
    const prefetchB = !prefetch || (options.prefetch ?? 'all') !== 'a';
    return {
    BM: bm,
    BN: bn,
    TM: tm,
    TN: tn,
    KEEP: keep,
    GROUP: group,
    VEC: vec,
    BK: partStages ? Math.ceil(group / parts) : sw * group,
    KEPT: kept,
    A_ROWS: aRows,
    SLOT_MODE: mode,
    UNION: union,
    SLOT_COLS: slots.cols,
    SLOTS_PER_ROW: slots.perRow,
    COLMAP: colMap,
    SLOT_OFFSETS: slots.offsets,
    WG: threads,
    PREFETCH: prefetch,
    PREFETCH_A: prefetchA,
    PREFETCH_B: prefetchB,
    // A part that is not prefetched has no register trips (the WGSL loads it after the FMAs instead).
    A_TRIPS: prefetch ? (prefetchA ? trips[0] : 0) : 1,
    B_TRIPS: prefetch ? (prefetchB ? trips[1] : 0) : 1,
    S_TRIPS: prefetch ? (prefetchB ? Math.max(1, trips[2]) : 0) : 1,
    KCHUNK: chunkFor(kept, unionChoices, colMap, ordered),
    PAD_WORDS: mode === 0 ? 0 : Math.ceil((options.sharedPadBytes ?? 0) / 4),
    UNROLL: !context.software,
    TAIL: false,
    A_T: false,
    B_VEC: false,
    };
  };
  // The deepest stage that fits the workgroup memory and, when the plan asks for double buffering, still
  // fits the prefetch registers (a deep stage without prefetch loses more than a shallow one with it); if no
  // depth prefetches, the deepest that fits.
  const fits = (c: TiledConstants) => tiledSharedBytes(c) <= context.limits.maxSharedMemoryBytes;
  const wanted = (c: TiledConstants) => fits(c) && (plan.stages < 2 || c.PREFETCH);
  let constants = constantsFor(stageWindows);
  // Window parts stay union stages even without register prefetch (whole windows would be larger still; decode
  // stages of 32 kept rows, as 32:64's whole windows, are single-buffered).
  if (union && !wanted(constants) && !(parts > 1 && fits(constants))) {
    union = false; // the union lists were built for this stage depth; shrinking it means staging whole windows
    constants = constantsFor(stageWindows);
  }
  let depth = stageWindows;
  while (depth > 1 && !wanted(constants)) constants = constantsFor(--depth);
  if (!wanted(constants)) {
    depth = stageWindows;
    constants = constantsFor(depth);
    while (depth > 1 && !fits(constants)) constants = constantsFor(--depth);
  }
  if (!fits(constants)) return generalSpec(shape, pattern);
  stageWindows = depth;

  const partStages = inParts();
  const stages = partStages ? windows * parts : Math.ceil(windows / stageWindows);
  const sharedBytes = tiledSharedBytes(constants);
  const rowBlocks = Math.ceil(shape.m / bm);
  const colBlocks = Math.ceil(shape.n / bn);
  const slots = waveSlots({ sharedBytes, invocations: constants.WG, accumulators: constants.TM * constants.TN }, context);
  let splitK = Math.max(1, Math.min(plan.splitK, stages));
  const vectorTiles = readsKeptOrder(constants);
  if (splitKSizing === 'waves' && !context.software) {
    // Decode tiles of more than 4 rows (M > 4) keep the planner's slices (the decode suite, run 38).
    if (!decode) {
      // One-vector tiles (kept-order union lists): grids of up to two waves too where waveTail would run none (its
      // rule, not vectorTileTail's: runs 86–87 fitted the split-K so, and vectorTileTail was fitted on the grids this
      // leaves unsplit), and past 4 subgroups per compute unit a slice costs 8 stages (see waveSplitK).
      const units = context.multiprocessors ?? context.limits.computeUnits;
      const subgroupsPerWorkgroup = Math.max(1, constants.WG / Math.max(1, context.limits.subgroupSize));
      const crowded = vectorTiles ? { stages: 8, after: Math.floor((4 * units) / subgroupsPerWorkgroup) } : undefined;
      const waves = vectorTiles && !waveTail(rowBlocks, colBlocks, stages, slots) ? 2 : 1;
      splitK = waveSplitK(rowBlocks * colBlocks, stages, slots, waves, crowded);
      if (shape.m <= STREAM_MAX_M) splitK = Math.max(splitK, fillSplitK(rowBlocks * colBlocks, stages, slots));
    }
    else if (bm <= 4) splitK = decodeSplitK(colBlocks, threads, stages);
  }
  while (splitK > 1 && splitK * shape.m * shape.n * 4 > context.maxBindingBytes) splitK >>= 1;
  const stagesPerSplit = Math.ceil(stages / splitK);
  splitK = Math.ceil(stages / stagesPerSplit);
  // The default tail: one-vector tiles drain unevenly after any wave (vectorTileTail), the others only after a mostly
  // empty last one (waveTail).
  const ownTail = () =>
    vectorTiles && pattern ? vectorTileTail(rowBlocks, colBlocks, stages, slots, pattern.keep / pattern.group) : waveTail(rowBlocks, colBlocks, stages, slots);
  const tail = splitK === 1 && !decode ? chooseTail(shape, bm, rowBlocks, stages, context, options.tail ?? (context.software ? false : ownTail())) : undefined;
  const gridRows = tail ? tail.rowBlock + tail.rows * tail.splits : rowBlocks;
  const grid = [colBlocks, gridRows, splitK] as const;
  if (!fitsGrid(grid, context)) return generalSpec(shape, pattern);
  // Aᵀ: K rows and a zero row (rows past K and unused union entries read it), M padded to whole row blocks.
  const transposed: TransposedA = { rows: shape.k + 1, quads: rowBlocks * (bm / 4) };
  const aT = (options.transposeA ?? (!context.software && !(tail && tightRegisters(constants)))) && transposeFits(transposed, context);
  constants = { ...constants, A_T: aT, B_VEC: (options.vectorB ?? !context.software) && shape.n % 4 === 0 };
  const family = !pattern
    ? 'matmul-dense-tiled'
    : decode
      ? `spmm-nm-decode${partStages ? ` window-parts 1/${parts}` : ''}`
      : partStages
        ? `spmm-nm-window-parts 1/${parts}`
        : union
          ? 'spmm-nm-high-sparsity'
          : 'spmm-nm-low-sparsity';
  if (tail) constants = { ...constants, TAIL: true };
  return {
    shader: 'tiled',
    constants,
    grid,
    stages,
    stagesPerSplit,
    splitK,
    tail,
    transposed: aT ? transposed : undefined,
    sharedBytes,
    name: `${family} ${bm}×${bn}×${constants.BK} (${tm}×${tn}/invocation, ${threads} invocations)${constants.PREFETCH ? (constants.PREFETCH_A && constants.PREFETCH_B ? ' prefetch' : constants.PREFETCH_A ? ' prefetch-a' : ' prefetch-b') : ''}${constants.COLMAP ? ' consecutive' : ''}${vectorTiles ? ' kept-order' : ''}${constants.SLOT_OFFSETS ? '' : ' row-slots'}${constants.KCHUNK ? ` chunk ${constants.KCHUNK}` : ''}${constants.PAD_WORDS ? ` pad ${constants.PAD_WORDS * 4} B` : ''}${aT ? ' Aᵀ' : ''}${constants.B_VEC ? ' vec4-B' : ''} split-K ${splitK}${tail ? ` tail ${tail.rows}×${tail.splits}` : ''}`,
  };
}

/** One-vector tiles as kernelSpec maps them: union lists in kept order, read without slots. */
function readsKeptOrder(c: Pick<TiledConstants, 'UNION' | 'SLOT_MODE'>): boolean {
  return c.UNION && c.SLOT_MODE === 0;
}

/**
 * Tiles whose wave-tail kernels the H100's driver compiles at the edge of their occupancy, where staging A from Aᵀ
 * tips them over (run 54, `tools/vkstats`): N:M 128×128 tiles of 8×8 (12:32: 128 registers, 135 with Aᵀ, one
 * workgroup per SM instead of two) and 1/8-density union stages in tiles of 32 accumulators (4:32's 8×4: 79
 * registers, 81 with Aᵀ, two per SM instead of three). With a wave tail they keep scalar A loads (run 53: 4096³
 * 4:32 0.800 against 0.881 ms, 512×11008×4096 12:32 0.634 against 0.740); without one, Aᵀ fits and is faster (4096³
 * 12:32 1.676 against 1.856). N:M tiles only: dense 128×128 tiles (no slots) with a tail run fastest with Aᵀ
 * (2048×11008×4096: 5.100 against 5.443 ms, run 55).
 */
function tightRegisters(c: TiledConstants): boolean {
  const accumulators = c.TM * c.TN;
  return (c.SLOT_MODE !== 0 && c.BM === 128 && accumulators === 64 && c.WG === 256) || (accumulators === 32 && c.UNION && c.KEEP * 8 <= c.GROUP);
}

/** What {@link workgroupsPerUnit} needs to know of a tiled kernel. */
export interface KernelFootprint {
  /** Workgroup memory per workgroup, bytes. */
  readonly sharedBytes: number;
  /** Invocations per workgroup. */
  readonly invocations: number;
  /** Accumulators per invocation (its register tile, TM · TN). */
  readonly accumulators: number;
}

// A compute unit as an NVIDIA SM (Volta to Hopper) has it; WebGPU reports neither.
const UNIT_INVOCATIONS = 2048;
const UNIT_REGISTERS = 65536;

/**
 * Workgroups of a tiled kernel one compute unit runs at once (the wave tail's slots, see {@link waveTail}): the
 * tightest of workgroup memory (`maxSharedMemoryBytes` per unit: the H100's Vulkan driver gives an SM 48 KiB, two
 * workgroups of ≤ 24 KiB and one above, measured), 2048 invocations and 64 K registers at two per accumulator.
 * WebGPU reports no register counts; the H100 driver's (tools/vkstats) were 127–154 for 8×8 tiles and 63–110 for 8×4,
 * so 4:32 in 64×128 tiles of 8×4 (80 registers, 13.2 KB) runs three per SM, as does 2:4 with V = 1 in 64×128 tiles
 * of 8×8 (128 invocations, 152 registers, 12.5 KB): their wave tails measured 3–32 % faster sized for three (run 21).
 */
export function workgroupsPerUnit(kernel: KernelFootprint, maxSharedMemoryBytes: number): number {
  const byMemory = Math.floor(maxSharedMemoryBytes / Math.max(1, kernel.sharedBytes));
  const byInvocations = Math.floor(UNIT_INVOCATIONS / kernel.invocations);
  const byRegisters = Math.floor(UNIT_REGISTERS / (kernel.invocations * 2 * kernel.accumulators));
  return Math.max(1, Math.min(byMemory, byInvocations, byRegisters));
}

/** Workgroup slots of the whole GPU for a tiled kernel: compute units × {@link workgroupsPerUnit}. */
function waveSlots(kernel: KernelFootprint, context: Pick<GpuContext, 'limits'> & { readonly multiprocessors?: number }): number {
  return (context.multiprocessors ?? context.limits.computeUnits) * workgroupsPerUnit(kernel, context.limits.maxSharedMemoryBytes);
}

/**
 * Split-K of the backend's own plans, sized to the device. A grid of at most one wave of `slots` (compute units ×
 * {@link workgroupsPerUnit}) takes the K slices (≤ 8, each ≥ 4 stages) of least cost in stage times,
 * `⌈tiles · s / slots⌉ · (⌈stages / s⌉ + 1) + 3 · s` (no slice term for s = 1): the waves the slices make, each as long
 * as a slice's stages, plus about three stages per slice for its partial C and the reduce pass. Larger grids run
 * whole (the wave tail evens their last wave). The shared planner instead doubles split-K until its guess of compute
 * units holds two tiles each, blind to how many workgroups an SM really runs and to the waves: fitted on the H100 to
 * 66 problems with M ≤ 1024 (run 21, every split-K 1–6 and 8 timed; results/raw-run21-h100/fit-splitk.py), this
 * model's choices run at 98.8 % of the fastest split (97.9 % leaving each shape out of the fit; the five grids over a
 * wave counted without their tail), the planner's at 92 %. One-vector tiles ({@link vectorTilePlan}) size grids of up to
 * `waves` = 2 waves the same way where no wave tail runs (run 72, 256×22016×8192: split-K 1 1.238 ms at 12:32 in
 * 1376 tiles of 6 per SM, the model's 4 1.149; 16:32 and 8:32 the model's 2, 11 and 9 % faster than 1), and price
 * a slice at `crowded.stages` = 8 stages once the sliced grid holds more than `crowded.after` workgroups (the
 * backend: 4 subgroups per SM): their small workgroups (one or two warps) do not run as many to an SM as the slots
 * say, so past a few warps per SM more slices gain less than the waves suggest, while below that they fill SMs that
 * would idle. Runs 86–87 (H100, 96 problems of 128–512 rows, 16:32 to 4:32, every split-K 1–6 and 8 timed): 1.010×
 * and 1.024× the fastest split on geometric mean, where three stages a slice ran 1.026× and 1.041×
 * (512×13824×5120 4:32 0.426 → 0.328 ms, 128×11008×4096 8:32 0.159 → 0.134, 256×4096² 4:32 0.072 → 0.063).
 */
export function waveSplitK(tiles: number, stages: number, slots: number, waves = 1, crowded = { stages: 3, after: 0 }): number {
  if (tiles > waves * slots) return 1;
  let best = 1;
  let bestCost = Infinity;
  for (let s = 1; s <= 8 && (s === 1 || stages / s >= 4); s++) {
    const sliceStages = tiles * s > crowded.after ? crowded.stages : 3;
    const cost = Math.ceil((tiles * s) / slots) * (Math.ceil(stages / s) + 1) + (s > 1 ? sliceStages * s : 0);
    if (cost < bestCost) {
      best = s;
      bestCost = cost;
    }
  }
  return best;
}

/**
 * At M ≤ 64 the backend's own plans take the larger of {@link waveSplitK} and this: the most K slices (≤ 8, each ≥ 4
 * stages) that keep the grid to one wave of `slots`. At these M a slice's partial C is small, so waveSplitK's three
 * stages per slice overstate it: run 58 (H100, M = 24–64, N and K 4096–11008, dense and 16:32 to 4:32, split-K 1–8
 * timed) found this split the fastest, or within 2 %, in all 60 problems (4096² 16:32 at M = 64: 8 slices, 0.064 ms,
 * where waveSplitK's 6 took 0.076). Grids of more than half a wave get 1 here, and waveSplitK's two fuller waves are
 * faster (run 59: 64 × 22016 × 8192 16:32 in 172 tiles, 3 slices 0.437 ms, 1 slice 0.620).
 */
export function fillSplitK(tiles: number, stages: number, slots: number): number {
  let best = 1;
  for (let s = 2; s <= 8 && stages / s >= 4 && tiles * s <= slots; s++) best = s;
  return best;
}

/**
 * Split-K of the backend's own decode plans in tiles of 4 rows (M ≤ 4: one row of 4×4 invocation tiles):
 * about 32 K invocations in flight over the grid (the planner's ≤ 8 slices left an H100 with ~2 warps per SM) and at
 * least 4 stages per slice, at most 64 slices. Run 37 (H100, M = 1 at 4096 × 4096 and 11008 × 4096, 8:32 and 4:32,
 * split-K 4 to 64): the fastest split in 2 of 4 problems, within 8 % in the others; 4:32 at 4096² 0.040 → 0.023 ms.
 * The decode suite (run 38) then ran every M = 1 row faster than before. At M = 8 and 16 the same rule won at
 * N = 4096 (16:32 at M = 8 0.056 → 0.040 ms) but lost up to 33 % at N ≥ 11008 and for 4:32, so those keep the
 * planner's slices.
 */
export function decodeSplitK(colBlocks: number, invocations: number, stages: number): number {
  const fill = Math.round(32768 / Math.max(1, colBlocks * invocations));
  return Math.max(1, Math.min(64, fill, Math.floor(stages / 4)));
}

/**
 * The default wave-tail split: only for grids of more than one wave whose last wave would leave at least half of
 * the workgroup slots idle (`slots` = compute units × workgroups per unit). The tail is the whole row blocks that
 * hold that last partial wave; it is split into as many copies as fill the slots (2 to 4), keeping ≥ 4 stages per
 * copy. Workgroups per unit: {@link workgroupsPerUnit}. Measured on the H100 (runs 16–21, package README: 4096³
 * 16:32 2.497 ms with a tail, 2.792 without; 4:32 in 64×128 tiles, three per SM, 0.870 ms against 0.943).
 */
export function waveTail(rowBlocks: number, colBlocks: number, stages: number, slots: number): { rows: number; splits: number } | undefined {
  const tiles = rowBlocks * colBlocks;
  const last = tiles % slots;
  if (tiles <= slots || last === 0) return undefined;
  const rows = Math.ceil(last / colBlocks);
  if (rows * colBlocks > slots / 2 || rows >= rowBlocks) return undefined;
  let splits = Math.min(4, Math.floor(slots / (rows * colBlocks)));
  while (splits >= 2 && stages / splits < 4) splits--;
  return splits >= 2 ? { rows, splits } : undefined;
}

/**
 * The wave tail of one-vector tiles ({@link vectorTilePlan}; their grids run unsplit, split-K 1): their small
 * workgroups (4 to 8 to an SM) drain unevenly at the end of any grid of more than one wave, not only one whose last
 * wave is mostly empty, so a tail pays even after a full last wave. From 65 stages the tail is the last row blocks
 * holding at least 15 % of the slots, or the last partial wave where that fills at most 60 % of them, in 2 copies
 * below 96 stages, 3 below 256 and 4 from there (shorter copies where a workgroup runs longer). At 64 stages or fewer
 * the drain is short: one row block in 2 copies at density ≤ ⅛, else {@link waveTail}'s rule (a tail only after a
 * mostly empty last wave). Fitted on the H100 (run 90: 77 problems of 1024–4096 rows × the paper set's (N, K) pairs ×
 * 16/12/8/4:32, no tail and 18 tails timed each; run 92: 32 more of 512–1024 rows, held out of the first fit): on all
 * 109 its choices run at 1.009× the fastest (leaving each shape out of the fit, 1.009×), waveTail's at 1.020×, no tail
 * at 1.03×. Known misses: 12:32 at 256–344 stages runs its 4 copies up to 6 % slower than 3, and 512×5120² 8:32 (80
 * stages of 16 kept rows) 2 copies 12 % slower than 4.
 */
export function vectorTileTail(rowBlocks: number, colBlocks: number, stages: number, slots: number, density: number): { rows: number; splits: number } | undefined {
  const tiles = rowBlocks * colBlocks;
  if (stages <= 64) {
    if (density <= 1 / 8 && tiles > slots && rowBlocks >= 2 && stages >= 8) return { rows: 1, splits: 2 };
    return waveTail(rowBlocks, colBlocks, stages, slots);
  }
  if (tiles <= slots) return undefined;
  const lastWave = (tiles % slots) / slots;
  const share = Math.max(0.15, lastWave <= 0.6 ? lastWave : 0);
  const rows = Math.max(1, Math.ceil((share * slots) / colBlocks));
  if (2 * rows > rowBlocks) return undefined;
  return { rows, splits: stages < 96 ? 2 : stages < 256 ? 3 : 4 };
}

/** The tail a spec runs (`wanted`: forced, or the default rule's; `false` or `undefined`: none), shrunk to what the stages and the largest binding allow. */
function chooseTail(
  shape: MatmulShape,
  bm: number,
  rowBlocks: number,
  stages: number,
  context: Pick<GpuContext, 'maxBindingBytes'>,
  wanted: KernelOptions['tail'] | undefined,
): WaveTail | undefined {
  if (!wanted) return undefined;
  const rows = Math.min(wanted.rows, rowBlocks);
  const rowBlock = rowBlocks - rows;
  const firstRow = rowBlock * bm;
  const tailRows = shape.m - firstRow;
  let splits = Math.min(wanted.splits, stages);
  // C and the partials share one buffer (split-tail-reduce adds them in place).
  while (splits >= 2 && (shape.m * shape.n + (splits - 1) * tailRows * shape.n) * 4 > context.maxBindingBytes) splits--;
  if (splits < 2 || rows < 1) return undefined;
  const stagesPerSplit = Math.ceil(stages / splits);
  splits = Math.ceil(stages / stagesPerSplit); // no copy without stages
  return splits < 2 ? undefined : { rowBlock, firstRow, rows, splits, stagesPerSplit };
}

/** What {@link backendPlan} may know of the problem and the device. */
export interface BackendPlanOptions {
  /** Deepen the stage to the planner's target depth (default: dense and decode plans). */
  readonly deep?: boolean;
  /** The problem: the waste estimate of tall tiles (M), and with `limits` the fit of window-part plans. */
  readonly shape?: MatmulShape;
  /** The device's limits: window-part plans that cannot run on it give way to the next ({@link backendPlans}). */
  readonly limits?: DeviceLimits;
  /** One-vector tiles where they apply (default `true`; `false`: the tiles before them, for comparisons). */
  readonly vectorTiles?: boolean;
}

/**
 * A shared plan as this backend runs it: the first of {@link backendPlans} that the device can hold (with `shape` and
 * `limits`; without them the first, as on a device with the H100's limits). On GPUs double buffering is register
 * prefetch (`stages: 2`, one workgroup buffer, where the planner budgets two), so the stage may be as deep as the
 * planner's target depth ({@link stageDepth}: ~32 kept rows at low sparsity, merged windows at high sparsity);
 * {@link kernelSpec} then shrinks it, whole windows at a time, to what really fits. CPU drivers: single-buffered,
 * the planner's depth (nothing to hide, and shorter shaders compile faster).
 * @example backendPlan(planTiling(shape, nmPattern(4, 32, 32), limits), nmPattern(4, 32, 32), false).block.k // 128
 */
export function backendPlan(plan: TilingPlan, pattern: NMPattern | undefined, software: boolean, options: BackendPlanOptions = {}): TilingPlan {
  const candidates = backendPlans(plan, pattern, software, options);
  const { shape, limits } = options;
  if (!pattern || !shape || !limits) return candidates[0];
  return candidates.find((c) => !partsPlan(c, pattern) || partsFit(shape, pattern, c, limits, software)) ?? candidates[candidates.length - 1];
}

/**
 * The plans this backend may run for a planner plan, best first. Long windows ({@link windowPartKept}, V % 4 == 0):
 * window-part plans from the widest tile down (decode, M ≤ 16: in decode tiles), then the whole-window plan;
 * everything else: the whole-window plan alone.
 */
export function backendPlans(plan: TilingPlan, pattern: NMPattern | undefined, software: boolean, options: BackendPlanOptions = {}): TilingPlan[] {
  const whole = wholeWindowPlan(plan, pattern, software, options);
  if (!pattern || pattern.vectorLength % 4 !== 0 || plan.variant === 'dense') return [whole];
  const m = options.shape?.m;
  const decode = plan.variant === 'decode' || (plan.variant === 'general' && m !== undefined && m <= DECODE_MAX_M);
  const parts = decode ? decodePartPlans(plan, pattern, software, options.shape) : longWindowPlans(plan, pattern, software);
  return [...parts, whole];
}

/**
 * Whether a window-part plan runs tiled on a device with `limits` whatever the weights: the tile is expressible and
 * the workgroup memory holds the longest union list a part can have (`min(group, kept rows × vectors per tile)`,
 * plus the zero row).
 */
function partsFit(shape: MatmulShape, pattern: NMPattern, plan: TilingPlan, limits: DeviceLimits, software: boolean): boolean {
  const { bn, expressible } = tileShape(shape, plan, limits.maxThreadsPerBlock);
  if (!expressible) return false;
  const v = pattern.vectorLength;
  const vectors = bn % v === 0 ? bn / v : 1;
  const longest = Math.min(pattern.group, planStageKept(shape, pattern, plan) * vectors) + 1;
  const context = { limits, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 32 - 4, software };
  const spec = kernelSpec(shape, pattern, plan, context, longest);
  return spec.shader === 'tiled' && spec.constants.UNION;
}

/** The whole-window plan: the planner's tile as measured best on the H100 (see the list below). */
function wholeWindowPlan(plan: TilingPlan, pattern: NMPattern | undefined, software: boolean, options: BackendPlanOptions): TilingPlan {
  if (plan.variant === 'general') return plan;
  if (software) return { ...plan, stages: 1 };
  // Measured on the H100 (results/raw-run5-h100-sweep/, results/h100-2026-11-23-run6.md):
  // - N:M at density ≤ ½ with V a multiple of 32, from 64 rows of C: one-vector tiles (vectorTilePlan, runs 68–71);
  //   the tiles below are what the other N:M problems run (and what these ran before);
  // - deeper stages pay for the dense kernel (32 rows instead of 24: −10 %) and for decode, while N:M stages
  //   of ≥ 16 kept rows ran slower (12:32 at 24 kept rows 3.30 ms vs 1.97 ms at 12), chunked or not;
  // - decode tiles of 4 rows per invocation (128 invocations at BN = 128): 16:32 at M = 16 0.35 → 0.05 ms;
  // - whole-window stages of ≥ 16 kept rows (16:32) run faster in 64×128 tiles than in 128×128 (−7 %), and
  //   faster still in 112×128 tiles (run 9): a 128×128 stage of 16 kept rows needs 25.3 KB of workgroup memory,
  //   and the H100's Vulkan driver runs two such workgroups per SM only up to ~24 KB each (48 KiB per SM, with
  //   1 KiB reserved per workgroup); 112×128 needs 22.8 KB. Run 17 (with the wave tail): 96×128 tiles (20.8 KB,
  //   chunks of 4, tail) 2.497 ms at 4096³ against 112×128's 2.658 (no tail: its tail kernel takes 143 registers
  //   instead of 128 and runs one workgroup per SM, 3.39 ms), 3.459 vs 3.809 at 2048×11008×4096. 64×128 where
  //   96-row tiles would waste > 6 % of M;
  // - union stages at 8:32 density: 8×4 invocation tiles (512 invocations) in 128×128 (run 9), two windows per stage
  //   in 64×128 tiles at N ≤ 5120 (run 63); at 4:32 density 64×128 tiles of two windows in 8×4 tiles, chunks of 4
  //   (run 10: −10 % at 4096³, −21 % at 2048×11008×4096);
  // - per-column slots (V % 4 ≠ 0, e.g. 2:4) run faster in 64×128 tiles with ~16-row stages (−12…−22 %).
  const deep = options.deep ?? (!pattern || plan.variant === 'decode');
  let k = deep ? Math.max(plan.block.k, stageDepth(pattern, plan.variant)) : plan.block.k;
  // Dense 128×128 tiles: 16-row stages (16.6 KB of workgroup memory: two workgroups per SM) beat 32-row ones
  // (33.3 KB: one) on the H100, run 9: 4.42 vs 5.23 ms at 4096³.
  const denseWide = !pattern && plan.variant !== 'decode' && plan.block.m === 128 && plan.block.n === 128 && plan.thread.m === 8 && plan.thread.n === 8;
  if (denseWide && options.deep === undefined) k = 16;
  let thread = plan.variant === 'decode' ? { ...plan.thread, m: 4 } : plan.thread;
  let { m, n } = plan.block;
  let threads = plan.threads;
  let splitK = plan.splitK;
  let variant = plan.variant;
  if (pattern && plan.variant !== 'decode') {
    const perColumn = pattern.vectorLength % 4 !== 0;
    const keptPerStage = Math.floor(k / pattern.group) * pattern.keep;
    if (perColumn) k = Math.min(k, pattern.group * Math.max(1, Math.floor(16 / pattern.group)));
    const wide = m === 128 && n === 128 && thread.m === 8 && thread.n === 8;
    const rowsM = options.shape?.m;
    const tall = rowsM !== undefined && Math.ceil(rowsM / TALL_TILE_ROWS) * TALL_TILE_ROWS <= 1.06 * rowsM;
    const vector = perColumn || options.vectorTiles === false ? undefined : vectorTilePlan(pattern, plan, options.shape);
    if (vector !== undefined) {
      // One-vector tiles (see vectorTilePlan): exactly each vector's kept rows, union lists in kept order.
      variant = 'high-sparsity';
      m = vector.m;
      n = 32;
      k = vector.k;
      thread = { m: 8, n: 8 };
      threads = (m / thread.m) * (n / thread.n);
    } else if (wide && !perColumn && plan.variant === 'low-sparsity' && keptPerStage >= 16 && tall) {
      m = TALL_TILE_ROWS;
      threads = (m / thread.m) * (n / thread.n);
    } else if (wide && (perColumn || (plan.variant === 'low-sparsity' && keptPerStage >= 16))) {
      m = 64;
      // 16 kept rows in 64×128: 8×4 invocation tiles (256 invocations), run 9: 3.087 vs 3.242 ms (8×8, chunked) at
      // 4096³, 0.208 vs 0.227 at 256×4096² (split-K 2). Per-column slots keep 8×8.
      if (!perColumn) thread = { m: 8, n: 4 };
      threads = (m / thread.m) * (n / thread.n);
      splitK = Math.max(1, Math.floor(splitK / 2)); // twice the tiles: half the K slices for the same fill
    } else if (wide && plan.variant === 'high-sparsity' && pattern.keep * 8 === pattern.group && !perColumn) {
      // Union stages at 1/8 density (4:32): 64×128 tiles of two windows in 8×4 invocation tiles (256 invocations),
      // kept-row chunks of 4 (kernelSpec), run 10: 0.942 vs 1.052 ms at 4096³, 1.214 vs 1.538 at 2048×11008×4096,
      // 0.082 (split-K 2) vs 0.097 (128×128×32, split-K 4) at 256×4096².
      m = 64;
      k = 2 * pattern.group;
      thread = { m: 8, n: 4 };
      threads = (m / thread.m) * (n / thread.n);
      splitK = Math.max(1, Math.floor(splitK / 2));
    } else if (wide && plan.variant === 'high-sparsity' && pattern.keep * 4 === pattern.group && !perColumn) {
      // At most 64 rows of C: 64×128 tiles, not half-empty 128-row ones (run 46, 8:32 at M = 24–64: 1.3–1.7×
      // faster, e.g. 64×24576×8192 0.355 against 0.588 ms). One row block either way: the same K slices.
      const cols = options.shape?.n;
      if (rowsM !== undefined && rowsM <= 64) m = 64;
      else if (cols !== undefined && cols <= UNION16_MAX_N && pattern.group === 32) {
        // N ≤ 5120: two windows per stage (16 kept rows) in 64×128 tiles, 4:32's form (run 63, vec4 staging loads:
        // 4096³ 1.426 against 1.498 ms, 512×5120² 0.320 against 0.356; 3–5 % slower from N = 11008). Windows of 32
        // rows only, as measured: 1:4's two-window stages of 2 kept rows ran 21–27 % slower (run 65).
        m = 64;
        k = 2 * pattern.group;
        splitK = Math.max(1, Math.floor(splitK / 2));
      }
      thread = { m: 8, n: 4 };
      threads = (m / thread.m) * (n / thread.n);
    }
  }
  if (plan.variant === 'decode') {
    // The decode tile as kernelSpec runs it: ≤ 16 rows (M rounded up to 4), 4×4 per invocation.
    const rows = decodeTileRows(plan.block.m, options.shape?.m);
    return { ...plan, stages: 2, thread: { m: 4, n: 4 }, threads: (rows / 4) * (n / 4), warp: subgroupTile(rows, n, 4, 4), splitK, block: { m, n, k } };
  }
  return { ...plan, variant, stages: 2, thread, threads, warp: variant === plan.variant ? plan.warp : subgroupTile(m, n, thread.m, thread.n), splitK, block: { m, n, k } };
}

/**
 * Window-part plans for long windows ({@link windowPartKept}), not decode, best tile first: stages of a part of every
 * window (union lists of the part's rows), whatever the planner's tile (which must stage whole windows: tiny tiles, or
 * the general kernel), in 8×4 invocation tiles of 128×128 (512 invocations, as 8:32's union stages; H100 run 30:
 * within 0–8 % of the fastest part and tile at 4096³ and 256×4096², where 64×128 won by 3–8 % for some patterns and
 * lost by 4–27 % for others) or, for parts of 12 or 16, 64×128; then the other and 64×64 for devices with fewer
 * invocations or less workgroup memory; 64×32 on CPU drivers (64 invocations). Only tiles that hold whole vectors or
 * lie inside one.
 */
function longWindowPlans(plan: TilingPlan, pattern: NMPattern, software: boolean): TilingPlan[] {
  const thread = { m: 8, n: 4 };
  return windowPartOptions(pattern).flatMap((kept) => {
    // Parts of 12 or 16 kept rows (kernelSpec chunks them by 4) ran 13–17 % faster in 64×128 tiles (run 35: 48:64,
    // 96:128, 192:256), where the 512-invocation tile ran them slower chunked.
    const chunked = kept === 12 || kept === 16;
    const tiles = software
      ? [{ m: 64, n: 32 }]
      : chunked
        ? [{ m: 64, n: 128 }, { m: 128, n: 128 }, { m: 64, n: 64 }]
        : [{ m: 128, n: 128 }, { m: 64, n: 128 }, { m: 64, n: 64 }];
    return tiles.flatMap((tile) => {
      const k = windowPartDepth(pattern, tile.n, kept);
      if (k === undefined) return [];
      const warp = subgroupTile(tile.m, tile.n, thread.m, thread.n);
      const threads = (tile.m / thread.m) * (tile.n / thread.n);
      return [{ ...plan, variant: 'high-sparsity' as const, block: { ...tile, k }, warp, thread, threads, splitK: Math.max(1, plan.splitK), stages: software ? 1 : 2 }];
    });
  });
}

/**
 * Decode (M ≤ 16) window-part plans, best first: each part size {@link windowPartOptions} offers for the tile's rows
 * (the preferred one is {@link windowPartKept}(·, rows)), in decode tiles of 128, 64 and 32 columns (the planner narrows decode tiles to stage whole windows: 128:256 at M = 16 ran
 * 32 columns, 0.160 ms against 0.053 for 64:128 in 128 columns, H100 run 31), each with as many more K slices than
 * the planner's (≤ 8, ≥ 4 stages each); the planner's width on CPU drivers. Also for a planner plan that fell back to
 * the general kernel at M ≤ 16 (no decode tile held a whole window).
 */
function decodePartPlans(plan: TilingPlan, pattern: NMPattern, software: boolean, shape: MatmulShape | undefined): TilingPlan[] {
  const decode = plan.variant === 'decode';
  const widths = software ? [decode ? plan.block.n : 32] : [128, 64, 32];
  const blockM = decode ? plan.block.m : Math.max(1, Math.min(shape?.m ?? DECODE_MAX_M, DECODE_MAX_M));
  const rows = decodeTileRows(blockM, shape?.m);
  return windowPartOptions(pattern, rows).flatMap((kept) => widths.flatMap((n) => {
    const k = windowPartDepth(pattern, n, kept);
    if (k === undefined) return [];
    // The planner's slices scaled to the wider tile (a general plan: 8), at least 4 stages each where K is known (the
    // backend sizes its own plans' slices again: decodeSplitK).
    let splitK = decode ? Math.round((plan.splitK * n) / plan.block.n) : 8;
    if (shape) splitK = Math.min(splitK, Math.floor((Math.ceil(shape.k / pattern.group) * pattern.group) / k / 4));
    splitK = Math.max(1, Math.min(8, splitK));
    const tile = { variant: 'decode' as const, block: { m: blockM, n, k }, thread: { m: 4, n: 4 }, threads: (rows / 4) * (n / 4) };
    return [{ ...plan, ...tile, warp: subgroupTile(rows, n, 4, 4), splitK, stages: software ? 1 : 2 }];
  }));
}

/** Rows of a decode tile as kernelSpec runs it: the block's rows (at most M), rounded up to 4, at most 16. */
function decodeTileRows(blockM: number, m: number | undefined): number {
  return Math.min(16, roundUp(Math.max(1, Math.min(m ?? blockM, blockM)), 4));
}

/** The tile 32 consecutive invocations (an NVIDIA warp; they run along N) cover in a bm × bn tile of tm × tn each. */
function subgroupTile(bm: number, bn: number, tm: number, tn: number): TilingPlan['warp'] {
  const perRow = bn / tn;
  if (perRow >= 32) return { m: tm, n: 32 * tn };
  return { m: Math.min(bm, (32 / perRow) * tm), n: bn };
}

/**
 * `block.k` of window-part stages of `kept` kept rows in tiles `tileN` columns wide (V % 4 == 0, and the tile holds
 * whole vectors or lies inside one: union lists), or `undefined` where such a tile cannot run parts.
 */
function windowPartDepth(pattern: NMPattern, tileN: number, kept: number): number | undefined {
  const v = pattern.vectorLength;
  if (v % 4 !== 0 || (tileN % v !== 0 && v % tileN !== 0)) return undefined;
  return Math.ceil((kept * pattern.group) / pattern.keep); // planStageKept gives back `kept`
}

/** Fewest rows of C for which {@link vectorTilePlan} runs. */
const VECTOR_TILE_MIN_M = 64;
/** Invocations of a grid below which one-vector tiles take deeper stages (about a wave: 8 tiles of 64 per SM). */
const VECTOR_TILE_SHALLOW_GRID = 65536;

/**
 * One-vector tiles (V a multiple of 32, density ≤ ½, from {@link VECTOR_TILE_MIN_M} rows of C; windows that the backend
 * cuts into parts first, {@link windowPartKept}, keep those plans): blocks 32 columns wide, so a stage stages exactly
 * its vector's kept rows (no union of four vectors, nothing staged twice) and, listed in kept order, reads no slots;
 * 8×8 per invocation, 64 rows per block below 256 rows of C, else 128. Stages of whole windows of about 8 kept rows
 * (12 kept rows per window stay whole, more are cut into parts of at most 8), about 16 (whole windows: 15 for 3:8,
 * 14 for 7:16) where a 128-row grid has fewer than {@link VECTOR_TILE_SHALLOW_GRID} invocations or the density is
 * ≤ ⅛ (more work per stage barrier where a wave does not fill), within 256 rows of K. `undefined` where none runs (the
 * plan is not N:M, or is decode; parts of fewer than 4 kept rows; a window over 256 rows).
 * Measured on the H100 against every neighbour (runs 70–72: 128 or 64 rows, stages of 8, 12 or 16 kept rows, chunks
 * of 2, 4 or none, split-K 1–4) and against the tiles before (8×4 invocations in 64×128 or 128×128, 96×128 and
 * 128×128 tiles of 8×8): 4096³ 16:32 2.060 against 2.264 ms, 12:32 1.559 against 1.677, 8:32 1.071 against 1.420,
 * 4:32 0.594 against 0.736; 1024×11008×4096 8:32 0.740 against 1.113; 2:4 and 4:8 with V = 32 at 2048×11008×4096
 * 2.686 against 3.391 and 3.368. Not at 64 rows and density ½ (see below); at 64 rows 4:32 ran 7 % slower (0.037
 * against 0.034 ms), 12:32 30 % faster.
 */
function vectorTilePlan(pattern: NMPattern, plan: TilingPlan, shape: MatmulShape | undefined): { m: number; k: number } | undefined {
  const { keep, group, vectorLength } = pattern;
  if (plan.variant !== 'high-sparsity' && plan.variant !== 'low-sparsity') return undefined;
  if (vectorLength % 32 !== 0 || keep * 2 > group || shape === undefined || shape.m < VECTOR_TILE_MIN_M) return undefined;
  // At 64 rows, density ½ keeps 64×128 tiles of 8×4 (run 72, 64×4096×4096 16:32: 0.064 against 0.073 ms).
  if (shape.m <= VECTOR_TILE_MIN_M && keep * 2 === group) return undefined;
  const m = shape.m < 256 ? 64 : 128;
  const invocations = Math.ceil(shape.m / m) * Math.ceil(shape.n / 32) * (m / 2);
  if (keep > 12) {
    // Parts of a window: the largest divisor of keep up to 8, at least 4 (else the tiles before: a 13:32 in parts of
    // one kept row would pay a stage barrier per row).
    let kept = 8;
    while (keep % kept !== 0) kept--;
    return kept >= 4 ? { m, k: Math.ceil((kept * group) / keep) } : undefined;
  }
  if (keep > 8) return group <= 256 ? { m, k: group } : undefined;
  const deep = invocations < VECTOR_TILE_SHALLOW_GRID && (m === 128 || keep * 8 <= group);
  // Whole windows of about 8 (or 16) kept rows, at most 256 rows of K (slots and lists are bytes).
  const windows = Math.min(Math.max(1, Math.floor((deep ? 16 : 8) / keep)), Math.floor(256 / group));
  return windows >= 1 ? { m, k: windows * group } : undefined;
}

/** Rows of the tiles of whole-window stages of ≥ 16 kept rows on GPUs, where they waste ≤ 6 % of M (see backendPlan). */
const TALL_TILE_ROWS = 96;

/**
 * Windows of K per stage for a plan: the plan's stage depth in whole windows, at most 256 dense rows (slots
 * are bytes) and at most the whole of K. The union lists of the high-sparsity variant are built for this depth.
 */
export function planStageWindows(shape: MatmulShape, pattern: NMPattern | undefined, plan: TilingPlan): number {
  const group = pattern?.group ?? 1;
  let stageWindows = Math.max(1, Math.floor(plan.block.k / group));
  if (pattern) stageWindows = Math.min(stageWindows, Math.floor(256 / group));
  return Math.min(stageWindows, Math.ceil(shape.k / group));
}

/** A plan whose stages are parts of windows: a union-row (high-sparsity) or decode plan with `block.k < group`. */
function partsPlan(plan: TilingPlan, pattern: NMPattern): boolean {
  return (plan.variant === 'high-sparsity' || plan.variant === 'decode') && plan.block.k < pattern.group;
}

/**
 * Kept (compressed) rows per stage for a plan: whole windows ({@link planStageWindows} · keep), or, for a union plan
 * (high-sparsity or decode variant) whose stage is shorter than one window (`block.k < group`), a part of every window: the
 * largest divisor of `keep` not above `block.k · keep / group` (at least 1). The union lists are built for it.
 * @example planStageKept(shape, nmPattern(32, 64, 32), { ...plan, variant: 'high-sparsity', block: { m: 64, n: 128, k: 32 } }) // 16
 */
export function planStageKept(shape: MatmulShape, pattern: NMPattern, plan: TilingPlan): number {
  const { keep, group } = pattern;
  if (!partsPlan(plan, pattern)) return planStageWindows(shape, pattern, plan) * keep;
  let kept = Math.max(1, Math.floor((plan.block.k * keep) / group));
  while (keep % kept !== 0) kept--;
  return kept;
}

/**
 * Kept rows per stage of a window-part plan ({@link backendPlan}), or `undefined` where whole windows are staged.
 * - Long windows (≥ 64 rows): the largest divisor of `keep` from 4 up to `max(8, ⌊16 · keep / group⌋)` (8 kept rows
 *   up to density ½, then about 16 dense rows' worth: 10 at ⅝, 12 at ¾, 14 at ⅞), where the window keeps more.
 * - Decode tiles of `decodeRows` rows (4 to 16; any window length): more than `2 · decodeRows` kept rows per window do
 *   not fit the prefetch registers (each of the tile's invocations loads `kept · 4 / decodeRows` vec4s of B per stage,
 *   at most 8) and no whole window is shallower, so parts of the largest divisor from `decodeRows` to `2 · decodeRows`.
 * H100 runs 29–35 at 4096³: 32:64, 64:128, 128:256 in parts of 8 kept rows 3.22 / 3.34 / 3.23 ms (16 rows: 3.35 / 3.16
 * / 4.01; whole windows 7.43 / 38.2 / 77.9 on the general kernel), 24:96 and 32:128 1.66 and 1.62 (whole: 5.64,
 * 13.7); 40:64, 48:64, 56:64 in parts of 10, 12, 14: 3.85, 3.97, 4.86 (parts of 8: 3.96, 4.78, 5.32). Decode at M = 16
 * (runs 31–36): 64:128 0.113 → 0.053 ms, 128:256 0.470 → 0.054, 48:64 0.180 → 0.086.
 */
export function windowPartKept(pattern: NMPattern, decodeRows?: number): number | undefined {
  return windowPartOptions(pattern, decodeRows)[0];
}

/**
 * Every part size {@link backendPlan} may try, best first: {@link windowPartKept}'s, then fallbacks for devices whose
 * tiles cannot hold the longest union list of that part (long windows: the largest divisor of `keep` from 4 to 8;
 * decode: from `decodeRows - 1` down to 4, then from 16 to 32, staged without register prefetch).
 */
function windowPartOptions(pattern: NMPattern, decodeRows?: number): number[] {
  const { keep, group } = pattern;
  const largestDivisor = (high: number, low: number) => {
    for (let kept = high; kept >= low; kept--) if (keep % kept === 0 && kept < keep) return [kept];
    return [];
  };
  let options: number[];
  if (decodeRows !== undefined) {
    if (keep <= 2 * decodeRows) return [];
    options = [...largestDivisor(2 * decodeRows, Math.max(4, decodeRows)), ...largestDivisor(decodeRows - 1, 4), ...largestDivisor(32, 16)];
  } else {
    const high = Math.min(16, Math.max(8, Math.floor((16 * keep) / group)));
    if (group < 64 || keep <= high) return [];
    options = [...largestDivisor(high, 4), ...largestDivisor(8, 4)];
  }
  return [...new Set(options)];
}

/**
 * Whether a plan asks for the union-row variant (high sparsity, or decode in window parts) and the tile allows it: the
 * tiled kernel can express the tile (else it runs the general kernel, which reads no lists) and each column block
 * lies within whole vectors.
 */
export function wantsUnion(pattern: NMPattern | undefined, plan: TilingPlan, shape: MatmulShape, maxThreadsPerBlock: number): boolean {
  if (!pattern || (plan.variant !== 'high-sparsity' && !partsPlan(plan, pattern))) return false;
  if (!tileShape(shape, plan, maxThreadsPerBlock).expressible) return false;
  const v = pattern.vectorLength;
  return v % 4 === 0 && (plan.block.n % v === 0 || v % plan.block.n === 0);
}

/** The workgroup and invocation tiles a plan asks of the tiled kernel, and whether the kernel can express them. */
function tileShape(shape: MatmulShape, plan: TilingPlan, maxThreadsPerBlock: number) {
  const decode = plan.variant === 'decode';
  const bm = decode ? Math.min(16, roundUp(Math.max(1, Math.min(shape.m, plan.block.m)), 4)) : plan.block.m;
  const tm = decode ? (plan.thread.m % 4 === 0 && bm % plan.thread.m === 0 ? plan.thread.m : bm) : plan.thread.m;
  const bn = plan.block.n;
  const tn = decode ? 4 : plan.thread.n;
  const threads = (bm / tm) * (bn / tn);
  const expressible =
    tm % 4 === 0 && (tn === 4 || tn === 8) && (tm * tn) / 4 <= 16 && bm % tm === 0 && bn % tn === 0 && bn > 0 &&
    Number.isInteger(threads) && threads <= maxThreadsPerBlock;
  return { bm, tm, bn, tn, threads, expressible };
}

const PLAN_VARIANTS: readonly TilingPlan['variant'][] = ['dense', 'low-sparsity', 'high-sparsity', 'decode', 'general'];

/**
 * What is wrong with a caller's forced plan (`MatmulOptions.plan`), or `undefined`: a known variant, and tile sizes,
 * split-K and stages that are integers (≥ 1; stages ≥ 0). A well-formed plan the tiled kernel cannot express still
 * runs, on the general kernel.
 */
export function forcedPlanProblem(plan: TilingPlan): string | undefined {
  if (typeof plan !== 'object' || plan === null) return `a plan must be a TilingPlan object, got ${String(plan)}`;
  if (!PLAN_VARIANTS.includes(plan.variant)) return `variant ${JSON.stringify(plan.variant)} is not one of ${PLAN_VARIANTS.join(', ')}`;
  if (plan.variant === 'general') return undefined;
  const fields: [string, unknown, number][] = [
    ['block.m', plan.block?.m, 1],
    ['block.n', plan.block?.n, 1],
    ['block.k', plan.block?.k, 1],
    ['thread.m', plan.thread?.m, 1],
    ['thread.n', plan.thread?.n, 1],
    ['splitK', plan.splitK, 1],
    ['stages', plan.stages, 0],
  ];
  const bad = fields.filter(([, value, min]) => !Number.isSafeInteger(value) || (value as number) < min);
  if (bad.length === 0) return undefined;
  return bad.map(([name, value, min]) => `${name}=${String(value)} must be an integer ≥ ${min}`).join('; ');
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}
