/**
 * Benchmark of the WebGPU backend against its dense WGSL baseline (and cuBLAS SGEMM when the CUDA backend is
 * in the bundle), same process, same run. Every figure is verified first: sampled entries of C against a
 * float64 CPU sum. For each problem the candidate plans of the shared planner are timed briefly (device
 * timestamps) and the fastest is timed again with more repeats.
 *
 *   node bench.mjs [--out DIR] [--quick] [--shapes 4096x4096x4096,...] [--patterns dense,16:32,...] [--no-cuda]
 *                  [--widen auto|always|never] (widened copies of element-wise weights, as the backend option)
 *                  [--no-conformance] [--warm-ms MS] [--sweep | --explore | --loads | --mid-m | --union16 | --vector-tiles | --splits | --tails | --transposes] [--budget-s SECONDS] [--tag NAME] [--retime N] [--log-kernels]
 *
 * Tuning tries the backend's own kernel (as a matmul without a plan runs it) and every other candidate plan of
 * the shared planner × split-K × prefetch. `--sweep` widens it (all register-prefetched): planner and deep
 * stage depths × both column maps, and kept-row chunks of 4 and 8 (N:M), the split map with both slot
 * layouts (N:M; differs from the default for union stages), and for M ≤ 16 decode thread tiles of 4, 8 and
 * 16 rows plus the ordinary tiles. The N fastest (`--retime`, default 3) are timed again with more repeats and
 * the fastest median is reported. `--budget-s` stops starting new problems after that many seconds; the JSON
 * is rewritten after every problem. The sweep also times, for tiles of 128 columns, 8×4 invocation tiles, 112- and
 * 96-row tiles, 16-row dense stages and padded workgroup memory (12:32). `--log-kernels` logs each
 * kernel before its first timing (its pipeline is created then: a Vulkan layer's per-pipeline report, e.g.
 * tools/vkstats, follows the line). `--explore` (instead of tuning) times the default kernel and a short list of
 * candidates back to back with it (see exploreCandidates); the default is always re-timed, and every re-timed kernel is
 * verified. `--loads` times the default against itself with vec4 staging loads (Aᵀ, vec4 B, both) and the planner's
 * own tile with both (see loadCandidates); `--mid-m` the default at 17–64 rows against the tiled and stream kernels
 * (see midCandidates); `--union16` 8:32's tile against two-window stages (see union16Candidates); `--vector-tiles`
 * N:M tiles one or two vectors wide (see vectorTileCandidates); `--splits` the default's tile at split-K 1–6 and 8; `--tails` its wave tails (see tailCandidates). `--transposes` (alone: no matmul) checks and times the
 * Aᵀ pass against candidate transposes and a copy of the same bytes for each shape's A (transpose-variants.ts).
 * `--warm-ms` (default 300; 0 on CPU drivers) keeps the GPU busy that long before every timing, so that each is taken
 * at working clocks (clock-warmup.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  type BackendAvailability,
  candidatePlans,
  type CompressedNM,
  type DenseMatrix,
  type DeviceLimits,
  effectiveTflops,
  type MatmulShape,
  type NMBackend,
  type NMPattern,
  type PreparedWeights,
  performanceModel,
  H100_SXM,
  randomCompressed,
  randomDense,
  seededRandom,
  type TilingPlan,
} from '@nmkit/format';
import {
  backendPlan,
  backendPlans,
  type ColumnMap,
  createWebGPUBackend,
  type KernelOptions,
  STREAM_MAX_M,
  type StreamOptions,
  type WebGPUBackend,
  type WidenMode,
  PipelineCache,
  transposeGrid,
  windowPartKept,
} from '../src/index.js';
import { runConformance } from './run-conformance.js';
import { BENCH_PATTERNS, patternNamed } from './bench-patterns.js';
import { compareTransposes, medianPassMs, requestTimingDevice, transposeBindings } from './transpose-variants.js';
import { createClockWarmup } from './clock-warmup.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const outDir = option('--out', 'bench-out');
const quick = flag('--quick');
const shapes: MatmulShape[] = option('--shapes', quick ? '256x512x512' : '4096x4096x4096,256x4096x4096,2048x11008x4096,16x4096x4096')
  .split(',')
  .map((s) => {
    const [m, n, k] = s.split('x').map(Number);
    return { m, n, k };
  });
const PATTERNS = BENCH_PATTERNS;
const patternNames = option('--patterns', Object.keys(PATTERNS).join(',')).split(',');
const tuneRepeats = quick ? 2 : 5;
const sweep = flag('--sweep');
const explore = flag('--explore');
const loads = flag('--loads');
const midM = flag('--mid-m');
const union16 = flag('--union16');
const vectorTiles = flag('--vector-tiles');
const splitSweep = flag('--splits');
const tailSweep = flag('--tails');
// GPU busy time before each timing (clock-warmup.ts); 0 on CPU drivers, where the busy loop would take minutes.
const warmMs = Number(option('--warm-ms', '300'));
let clockWarmup: Awaited<ReturnType<typeof createClockWarmup>> | undefined;
const warmClocks = async () => {
  if (warmMs > 0) await (clockWarmup ??= await createClockWarmup()).warm(warmMs);
};
const budgetS = Number(option('--budget-s', '0'));
const tag = option('--tag', '');
const retimeCount = Math.max(1, Number(option('--retime', '3')));
const logKernels = flag('--log-kernels');
const started = performance.now();
const elapsedS = () => (performance.now() - started) / 1e3;
const finalRepeats = quick ? 3 : 20;

interface Row {
  shape: string;
  pattern: string;
  backend: string;
  kernel: string;
  plan?: TilingPlan;
  medianMs: number;
  minMs: number;
  tflops: number;
  clock: string;
  verified: { samples: number; worstRatio: number };
  options?: KernelOptions;
  /** The fastest of the tuning run (`--retime`, default 3), timed again with the final repeat count. */
  retimed?: { kernel: string; medianMs: number; verified?: boolean }[];
  /** The backend's default (untuned) kernel and its tuning-run time. */
  own?: { kernel: string; medianMs: number };
  tuned: { plan: string; kernel: string; medianMs: number }[];
  model?: { bound: string; floorMs: number; arithmeticIntensity: number };
}

const log = (line: string) => console.log(`[${elapsedS().toFixed(0).padStart(4)} s] ${line}`);

/** Sampled float64 check of C: |C − Σ| ≤ γ·Σ|terms| for 256 random entries. Throws on a mismatch. */
function verify(c: DenseMatrix, a: DenseMatrix, b: CompressedNM | DenseMatrix, samples = 256): { samples: number; worstRatio: number } {
  const rand = seededRandom(99);
  const gamma = 2 * (a.cols + 2) * 2 ** -24;
  let worstRatio = 0;
  for (let s = 0; s < samples; s++) {
    const i = Math.floor(rand() * c.rows);
    const j = Math.floor(rand() * c.cols);
    let sum = 0;
    let mag = 0;
    if ('values' in b) {
      const { keep, group, vectorLength } = b.pattern;
      const vectors = Math.ceil(b.cols / vectorLength);
      const kept = b.values.length / b.cols;
      for (let w = 0; w < kept; w++) {
        const row = Math.floor(w / keep) * group + b.indices[w * vectors + Math.floor(j / vectorLength)];
        if (row >= a.cols) continue;
        const t = a.data[i * a.cols + row] * b.values[w * b.cols + j];
        sum += t;
        mag += Math.abs(t);
      }
    } else {
      for (let k = 0; k < a.cols; k++) {
        const t = a.data[i * a.cols + k] * b.data[k * b.cols + j];
        sum += t;
        mag += Math.abs(t);
      }
    }
    const got = c.data[i * c.cols + j];
    const ratio = Math.abs(got - sum) / (gamma * mag + 1e-30);
    if (!(ratio <= 1)) throw new Error(`verification failed at C[${i}][${j}]: got ${got}, expected ${sum} (bound ${gamma * mag})`);
    worstRatio = Math.max(worstRatio, ratio);
  }
  return { samples, worstRatio };
}

const describePlan = (p: TilingPlan) => `${p.variant} ${p.block.m}×${p.block.n}×${p.block.k} t${p.thread.m}×${p.thread.n} s${p.splitK}`;

interface Candidate {
  plan: TilingPlan;
  options: KernelOptions;
  /** Described without a plan, as a matmul runs it, then timed as the plan and options that describe (first candidate too). */
  unforced?: boolean;
}

/** The plans to time for one problem (see the header). Duplicates (same kernel) are timed once. */
function candidates(backend: WebGPUBackend, shape: MatmulShape, pattern: NMPattern | undefined): Candidate[] {
  const limits = backend.plannerLimits;
  const base = candidatePlans(shape, pattern, limits);
  const own: Candidate = { plan: backendPlan(base[0], pattern, false, { shape, limits }), options: {} };
  const tiles = (p: TilingPlan) => Math.ceil(shape.m / p.block.m) * Math.ceil(shape.n / p.block.n);
  const splits = (p: TilingPlan) => [...new Set([p.splitK, 1, 2, 4, ...(sweep && shape.m <= 16 ? [8] : [])])].filter((s) => s === 1 || tiles(p) < 2 * 132);
  if (explore) return exploreCandidates(shape, pattern, own, splits, base[0]);
  // `--splits`: the default's own tile at every split-K 1–6 and 8 (the default re-timed whatever its rank).
  if (splitSweep) return [own, ...[1, 2, 3, 4, 5, 6, 8].map((splitK) => ({ plan: { ...own.plan, splitK }, options: {} }))];
  if (tailSweep) return tailCandidates(shape, own);
  if (loads) return loadCandidates(own, base[0]);
  if (midM) return midCandidates(shape, own);
  if (union16 && pattern) return union16Candidates(pattern, own);
  if (vectorTiles && pattern) return vectorTileCandidates(shape, pattern, own, base[0], limits);
  if (!sweep) {
    const plans = base.flatMap((p) => splits(p).flatMap((splitK) => [1, 2].map((stages) => ({ ...p, splitK, stages }))));
    return [own, ...plans.map((plan) => ({ plan, options: {} }))];
  }
  const plans: TilingPlan[] = [];
  if (shape.m <= 16) {
    // Decode: thread tiles of 4, 8 and M rows (more invocations per workgroup), and the ordinary tiles (rows padded).
    for (const p of base) {
      for (const tm of p.variant === 'decode' ? [4, 8, 16] : [p.thread.m]) {
        for (const splitK of splits(p)) plans.push(backendPlan({ ...p, thread: { ...p.thread, m: tm }, splitK }, pattern, false, { deep: true }));
      }
    }
    for (const p of candidatePlans({ ...shape, m: 17 }, pattern, limits)) for (const splitK of splits(p)) plans.push(backendPlan({ ...p, splitK }, pattern, false));
  } else {
    for (const p of base) {
      for (const splitK of splits(p)) {
        for (const deep of [false, true]) plans.push(backendPlan({ ...p, splitK }, pattern, false, { deep }));
      }
      // The planner's own tile as it is (backendPlan narrows some 128×128 tiles to 64×128), register-prefetched.
      if (p.block.m === 128 && p.block.n === 128) plans.push({ ...p, splitK: 1, stages: 2 });
    }
  }
  // Both column maps (unchunked); kept-row chunks (N:M only) with the consecutive map.
  const variants: KernelOptions[] = (['consecutive', 'split'] as ColumnMap[]).map((columnMap) => ({ columnMap, keptChunk: 0 }));
  if (pattern) {
    variants.push({ columnMap: 'consecutive', keptChunk: 4 }, { columnMap: 'consecutive', keptChunk: 8 });
    // Both slot layouts with the split map (the default differs for union stages; same kernel elsewhere).
    variants.push({ columnMap: 'split', slotLayout: 'vector-offsets', keptChunk: 0 }, { columnMap: 'split', slotLayout: 'column-rows', keptChunk: 0 });
  }
  // Occupancy (run 9): 8×4 invocation tiles (twice the invocations, half the accumulators), 112- and 96-row tiles of
  // whole-window stages (less workgroup memory per workgroup), 16-row dense stages, and for 12:32 padded workgroup
  // memory (the same kernel with 256 or 1024 unused bytes: does 48 KiB per SM bound two workgroups?).
  const extra: Candidate[] = [];
  for (const plan of plans) {
    if (plan.block.n !== 128 || plan.thread.m !== 8 || plan.thread.n !== 8 || (plan.block.m !== 128 && plan.block.m !== 64)) continue;
    const narrow = { ...plan, thread: { m: 8, n: 4 }, threads: (plan.block.m / 8) * (plan.block.n / 4) };
    extra.push({ plan: narrow, options: { keptChunk: 0 } });
    if (pattern) extra.push({ plan: narrow, options: { keptChunk: 4 } });
    if (plan.block.m !== 128) continue;
    if (!pattern) extra.push({ plan: { ...plan, block: { ...plan.block, k: 16 } }, options: {} });
    if (plan.variant === 'low-sparsity' || !pattern) {
      for (const m of [112, 96]) {
        const tall = { ...plan, block: { ...plan.block, m }, threads: (m / 8) * (plan.block.n / 8) };
        if (!pattern) extra.push({ plan: tall, options: { columnMap: 'split' } });
        else for (const keptChunk of [0, 4, 8]) extra.push({ plan: tall, options: { columnMap: 'consecutive', keptChunk } });
        if (pattern && m === 112) extra.push({ plan: tall, options: { columnMap: 'consecutive', keptChunk: 0, sharedPadBytes: 1024 } });
      }
    }
    if (pattern?.keep === 12 && pattern.group === 32 && plan.variant === 'low-sparsity') {
      for (const sharedPadBytes of [256, 1024]) {
        for (const keptChunk of [0, 4]) extra.push({ plan, options: { columnMap: 'consecutive', keptChunk, sharedPadBytes } });
      }
    }
  }
  return [own, ...plans.flatMap((plan) => variants.map((options) => ({ plan, options }))), ...extra];
}

/**
 * `--loads`: the tiled kernel's staging loads (runs 52–53): the default against each of scalar loads, A staged from
 * Aᵀ, B as vec4s and both (unforced, so each is the default plan with those options; both also without a wave tail
 * and unchunked), and the planner's own tile, register-prefetched, with both. Each shape also logs the Aᵀ pass alone.
 */
function loadCandidates(own: Candidate, planned: TilingPlan): Candidate[] {
  const both: KernelOptions = { transposeA: true, vectorB: true };
  const out: Candidate[] = [own];
  const combos: KernelOptions[] = [{ transposeA: false, vectorB: false }, { transposeA: true, vectorB: false }, { transposeA: false, vectorB: true }, both];
  for (const options of [...combos, { ...both, tail: false as const }, { ...both, keptChunk: 0 }]) out.push({ plan: own.plan, options, unforced: true });
  out.push({ plan: { ...planned, stages: 2 }, options: both });
  return out;
}

/**
 * `--mid-m`: between decode and tiles (M = 17–64, run 58): the default against the tiled kernel (its own plan and
 * split-K, then split-K 1–8) and the stream kernel (its own sizing, then 2, 4 and 8 grid splits).
 */
function midCandidates(shape: MatmulShape, own: Candidate): Candidate[] {
  const tiled: KernelOptions = { decodeKernel: 'tiled' };
  const out: Candidate[] = [own, { plan: own.plan, options: tiled, unforced: true }];
  for (const splitK of [1, 2, 3, 4, 6, 8]) out.push({ plan: { ...own.plan, splitK }, options: tiled });
  if (shape.m <= STREAM_MAX_M && shape.n % 4 === 0) {
    out.push({ plan: own.plan, options: { decodeKernel: 'stream' }, unforced: true });
    for (const splitK of [2, 4, 8]) out.push({ plan: own.plan, options: { decodeKernel: 'stream', stream: { splitK } }, unforced: true });
  }
  return out;
}

/**
 * `--union16` (8:32-density union stages, run 63): the default tile (one window per stage) against two-window stages
 * of 16 kept rows in 64×128 tiles of 8×4 (4:32's form: one slot entry per vector, chunks of 4), each at split-K 1–4.
 */
function union16Candidates(pattern: NMPattern, own: Candidate): Candidate[] {
  const p = own.plan;
  const two: TilingPlan = { ...p, block: { m: 64, n: 128, k: 2 * pattern.group }, thread: { m: 8, n: 4 }, threads: 256, stages: 2 };
  const out: Candidate[] = [own];
  for (const splitK of [1, 2, 3, 4]) {
    out.push({ plan: { ...p, splitK }, options: {} });
    out.push({ plan: { ...two, splitK }, options: { slotLayout: 'vector-offsets', keptChunk: 4 } });
  }
  return out;
}

/**
 * `--vector-tiles` (V a multiple of 32; runs 68–70): the default against one-vector tiles (128×32 and 64×32, 8×8 per
 * invocation, kept-order lists) in stages of 8 and 16 kept rows (12 for 12:32), kept-row chunks of 2 and 4 and none,
 * and against the tiles the default replaced (`vectorTiles: false`, its split-K sized as the default's); split-K 1, 2 and 4
 * where the grid is under four waves of 8 per SM.
 */
function vectorTileCandidates(shape: MatmulShape, pattern: NMPattern, own: Candidate, planned: TilingPlan, limits: DeviceLimits): Candidate[] {
  const out: Candidate[] = [own];
  if (pattern.vectorLength % 32 !== 0) return out;
  const stage = (kept: number) => Math.ceil((kept * pattern.group) / pattern.keep);
  const tile = (m: number, kept: number): TilingPlan => ({ ...planned, variant: 'high-sparsity', block: { m, n: 32, k: stage(kept) }, thread: { m: 8, n: 8 }, threads: m / 8 * 4, stages: 2, splitK: 1 });
  const forms: [TilingPlan, KernelOptions][] = [];
  // The tiles before (what the backend ran without one-vector tiles), at the default's split-K sizing.
  out.push({ plan: backendPlan(planned, pattern, false, { shape, limits, vectorTiles: false }), options: { vectorTiles: false }, unforced: true });
  for (const kept of [8, 12, 16]) {
    if (kept % pattern.keep !== 0 && pattern.keep % kept !== 0) continue;
    for (const m of [128, 64]) for (const keptChunk of [2, 4, 0]) if (keptChunk === 0 || kept % keptChunk === 0) forms.push([tile(m, kept), { keptChunk }]);
  }
  // The default with one option changed (run 74): scalar A loads (no Aᵀ pass), kept rows one at a time, and register
  // prefetch of only A or only B (fewer registers live across the FMAs).
  for (const options of [{ transposeA: false }, { keptChunk: 1 }, { prefetch: 'a' }, { prefetch: 'b' }] as KernelOptions[]) {
    out.push({ plan: own.plan, options, unforced: true });
  }
  // Wave tails for the default (run 76): none, and the last 2–8 row blocks in 2–4 copies.
  if (shape.m > 1024) {
    out.push({ plan: own.plan, options: { tail: false }, unforced: true });
    for (const [rows, splits] of [[2, 2], [3, 2], [4, 2], [4, 3], [6, 2], [8, 2]]) out.push({ plan: own.plan, options: { tail: { rows, splits } }, unforced: true });
  }
  for (const [plan, options] of forms) {
    const tiles = Math.ceil(shape.m / plan.block.m) * Math.ceil(shape.n / plan.block.n);
    for (const splitK of tiles < 4 * 8 * 132 ? [1, 2, 4] : [1]) out.push({ plan: { ...plan, splitK }, options });
  }
  return out;
}

/**
 * `--tails`: the default kernel with no wave tail and with every tail of the last 1, 2, 3, 4, 6 or 8 row blocks in 2, 3
 * or 4 copies (at most half the grid's row blocks; split-K sized by the backend as a matmul runs it). The default and
 * the unsplit kernel are re-timed whatever their rank.
 */
function tailCandidates(shape: MatmulShape, own: Candidate): Candidate[] {
  const rowBlocks = Math.ceil(shape.m / own.plan.block.m);
  const out: Candidate[] = [own, { plan: own.plan, options: { tail: false }, unforced: true }];
  for (const rows of [1, 2, 3, 4, 6, 8]) {
    if (2 * rows > rowBlocks) continue;
    for (const splits of [2, 3, 4]) out.push({ plan: own.plan, options: { tail: { rows, splits } }, unforced: true });
  }
  return out;
}

/**
 * `--explore`: the default kernel and candidates next to it, timed back to back: the planner's plan unsized (run 21,
 * where the default's split-K is sized to the device). Every default (dense too) with split-K 2 and 3 (M ≤ 1024:
 * 1–6 and 8, run 21); for M > 1024 also without its wave tail and with seven others ({@link KernelOptions.tail};
 * runs 14, 16 and 21). 16-kept-row
 * whole-window stages (default 96×128 8×8, chunks of 4, wave tail): 96×128 unchunked, the earlier 112×128 default
 * without and with its tail, 120×128, 80×128 and 128×128 chunked (run 17). 4:32 (union stages at 1/8 density):
 * 64×128×64 in 8×4 tiles with chunks of 4, every split-K. M > 1024: union stages of 16 kept rows under 24 KiB (run 19–20, slower):
 * 8:32 in 64×128×64 and 4:32 in 32×128×128 tiles, 8×4, one slot entry per vector, chunked and not.
 */
function exploreCandidates(shape: MatmulShape, pattern: NMPattern | undefined, own: Candidate, splits: (p: TilingPlan) => number[], planned: TilingPlan): Candidate[] {
  const p = own.plan;
  // The planner's plan as given (its split-K unsized), where the default differs from it (run 21: waveSplitK).
  const out: Candidate[] = [own, { plan: p, options: {} }];
  // Run 36: every plan backendPlans offers (window parts in each tile or decode width, then whole windows).
  for (const plan of backendPlans(planned, pattern, false, { shape })) out.push({ plan, options: {} });
  // Run 37: decode tiles of M ≤ 16 rows are 32–128 invocations; more K slices than the planner's 8 for occupancy.
  if (p.variant === 'decode') for (const splitK of [4, 8, 16, 32, 64]) out.push({ plan: { ...p, splitK }, options: {} });
  if (shape.m <= 16) {
    // Run 43: the stream kernel (the default at M ≤ 16) against the tiled decode default it replaced, and its sizes:
    // chunks of 4 and 16, A transposed or not, slices and grid splits around the default's ranges.
    out.push({ plan: p, options: { decodeKernel: 'tiled' }, unforced: true });
    const stream = (s: StreamOptions): Candidate => ({ plan: p, options: { decodeKernel: 'stream', stream: s }, unforced: true });
    for (const chunk of [4, 16]) out.push(stream({ chunk }));
    if (shape.m > 1) out.push(stream({ transposeA: shape.m <= 4 }));
    for (const [slices, splitK] of [
      [4, 1],
      [8, 1],
      [4, 4],
      [8, 4],
      [8, 16],
      [8, 32],
      [2, 64],
      [2, 8],
      [2, 16],
      [1, 16],
    ]) out.push(stream({ slices, splitK }));
    return out;
  }
  // Run 46: the stream kernel beyond decode (17–64 rows: up to 16 row groups), forced, against the tiled default.
  if (shape.m <= STREAM_MAX_M && shape.n % 4 === 0) {
    const stream = (s: StreamOptions): Candidate => ({ plan: p, options: { decodeKernel: 'stream', stream: s } });
    for (const splitK of [1, 2, 4, 8, 16]) out.push(stream({ splitK }));
    for (const chunk of [4, 16]) out.push(stream({ chunk, splitK: 4 }));
    out.push(stream({ splitK: 4, transposeA: false }));
  }
  if (pattern && windowPartKept(pattern)) {
    // Runs 29–30: long windows in parts (the default: windowPartKept rows per stage in 8×4 invocation tiles) against
    // whole windows in the planner's tile (the default before), and every part of 4 to 16 kept rows in 64×128 and
    // 128×128 tiles of 8×4 (run 29 also timed 8×8 tiles of 64, 96 and 128 rows: 6–60 % slower than 8×4).
    const stage = (kept: number) => Math.ceil((kept * pattern.group) / pattern.keep);
    out.push({ plan: { ...planned, stages: 2 }, options: {} });
    for (let kept = 4; kept <= 16; kept++) {
      if (pattern.keep % kept !== 0) continue;
      for (const m of [64, 128]) {
        const q: TilingPlan = { ...p, block: { m, n: 128, k: stage(kept) }, thread: { m: 8, n: 4 }, threads: (m / 8) * 32 };
        for (const splitK of splits(q)) out.push({ plan: { ...q, splitK }, options: {} });
      }
    }
    // (Run 34 timed parts of 16 kept rows in 16:32's 8×8 tiles of 80 and 96 rows: 15–150 % slower; not explored since.)
    return out;
  }
  // Run 14: the default with split-K 2 and 3. At 4096³ the 112×128 grid is 1184 workgroups, 4.5 waves at two per SM
  // on 132 SMs; more slices even the waves at the cost of the reduce pass (the planner splits only grids below
  // 2 × 132 tiles, so tuning never tried this on large shapes).
  // Run 21: grids of at most a few waves (M ≤ 1024) every split-K to 8, against the default's device-sized one.
  const splitKs = shape.m <= 1024 ? [1, 2, 3, 4, 5, 6, 8] : [2, 3];
  if (p.variant !== 'general') for (const splitK of splitKs) out.push({ plan: { ...p, splitK }, options: {} });
  // Run 16: the wave-tail split (the default where waveTail applies) against none, and other tails (grids of more
  // than a wave: M > 1024 in the runs' shapes).
  if (p.variant !== 'general' && shape.m > 1024) {
    out.push({ plan: p, options: { tail: false } });
    for (const [rows, splits] of [
      [4, 3],
      [5, 2],
      [1, 3],
      [2, 4],
      [3, 4],
      [6, 2],
      [8, 2],
    ]) out.push({ plan: p, options: { tail: { rows, splits } } });
  }
  if (!pattern) return out;
  if (p.variant === 'low-sparsity' && p.block.m === 96 && p.block.n === 128 && p.thread.m === 8 && p.thread.n === 8) {
    const tile = (m: number, n: number): TilingPlan => ({ ...p, block: { ...p.block, m, n }, threads: (m / 8) * (n / 8) });
    const chunked = { columnMap: 'consecutive', keptChunk: 4 } as const;
    // Run 17: the default 96×128 (chunks of 4, wave tail) against the earlier 112×128 default without and with its tail,
    // 96×128 unchunked, and 120×128 / 80×128 / 128×128 tiles (chunked, their default tails).
    out.push({ plan: p, options: { columnMap: 'consecutive', keptChunk: 0 } });
    out.push({ plan: tile(112, 128), options: { ...chunked, tail: false } });
    out.push({ plan: tile(112, 128), options: chunked });
    for (const [m, n] of [
      [120, 128],
      [80, 128],
      [128, 128],
    ]) out.push({ plan: tile(m, n), options: chunked });
  }
  // Run 23: 8:32 union stages of one window in 64×128 tiles of 8×4 (≤ 14 KB: three per SM) against 128×128 (slower:
  // 1.994 against 1.614 ms at 4096³, 2.229 against 2.032 at 2048×11008×4096).
  if (p.variant === 'high-sparsity' && pattern.keep * 4 === pattern.group && pattern.vectorLength % 4 === 0) {
    const q: TilingPlan = { ...p, block: { m: 64, n: 128, k: pattern.group }, thread: { m: 8, n: 4 }, threads: 256, stages: 2 };
    for (const splitK of splits(q)) out.push({ plan: { ...q, splitK }, options: {} });
  }
  if (p.variant === 'high-sparsity' && pattern.keep * 8 === pattern.group && pattern.vectorLength % 4 === 0) {
    const q: TilingPlan = { ...p, block: { m: 64, n: 128, k: 64 }, thread: { m: 8, n: 4 }, threads: 256, stages: 2 };
    for (const splitK of splits(q)) out.push({ plan: { ...q, splitK }, options: { keptChunk: 4 } });
    // Run 24: the same stages in 96×128 tiles (384 invocations, two per SM: as many warps as three 64-row tiles, a
    // third less B staging per FMA): a tie at 4096³ (0.872 against 0.875 ms), 1–25 % slower at the other shapes.
    const tall: TilingPlan = { ...q, block: { m: 96, n: 128, k: 64 }, threads: 384 };
    for (const splitK of splits(tall)) out.push({ plan: { ...tall, splitK }, options: { keptChunk: 4 } });
  }
  // Run 19: union stages of 16 kept rows that may still fit two workgroups per SM (≤ 24 KiB with one slot entry per
  // vector): 8:32 in 64×128 tiles of two windows, 4:32 in 32×128 tiles of four windows; 8×4 invocation tiles.
  if (p.variant === 'high-sparsity' && shape.m > 1024 && pattern.vectorLength % 32 === 0 && (pattern.keep * 4 === pattern.group || pattern.keep * 8 === pattern.group)) {
    const m = pattern.keep * 4 === pattern.group ? 64 : 32;
    const deep: TilingPlan = { ...p, block: { m, n: 128, k: (16 / pattern.keep) * pattern.group }, thread: { m: 8, n: 4 }, threads: (m / 8) * 32, stages: 2, splitK: 1 };
    for (const keptChunk of [0, 4]) out.push({ plan: deep, options: { slotLayout: 'vector-offsets', keptChunk } });
  }
  return out;
}

async function tuneAndTime(
  backend: WebGPUBackend,
  shape: MatmulShape,
  pattern: NMPattern | undefined,
  a: DenseMatrix,
  weights: PreparedWeights,
  check: (c: DenseMatrix) => { samples: number; worstRatio: number },
) {
  const tuned: { plan: TilingPlan; options: KernelOptions; medianMs: number; kernel: string }[] = [];
  const seen = new Set<string>();
  let ownKernel = '';
  let referenceKernel = ''; // re-timed whatever its rank: explore's unsized planner plan, tails' untailed default
  for (const [i, candidate] of candidates(backend, shape, pattern).entries()) {
    let { plan, options } = candidate;
    backend.kernelOptions = options;
    try {
      // The first candidate is the backend's own choice: described unforced, as a matmul without a plan runs it (its
      // split-K sized to the device), then timed as that plan (the stream kernel: as its sizes).
      const unforced = i === 0 || candidate.unforced;
      const { name, spec } = await backend.describeKernel(shape, weights, unforced ? undefined : plan);
      if (unforced && spec.shader === 'tiled') plan = { ...plan, splitK: spec.splitK };
      if (unforced && spec.shader === 'stream') {
        plan = spec.plan;
        const { SLICES: slices, CHUNK: chunk, ATRANS: transposeA } = spec.constants;
        options = { ...options, decodeKernel: 'stream', stream: { slices, splitK: spec.splitK, chunk, transposeA } };
        backend.kernelOptions = options;
      }
      if (i === 0) ownKernel = name;
      if (i === 1 && (explore || tailSweep)) referenceKernel = name;
      if (seen.has(name)) continue;
      seen.add(name);
      if (logKernels || explore) log(`  kernel ${name}${'sharedBytes' in spec && spec.sharedBytes ? ` (${spec.sharedBytes} B of workgroup memory)` : ''}`);
      await warmClocks();
      const t = await backend.time(a, weights, { plan, warmup: 1, repeats: tuneRepeats });
      tuned.push({ plan, options, medianMs: t.medianMs, kernel: backend.lastKernel ?? '' });
    } catch (error) {
      log(`  plan ${describePlan(plan)} failed: ${(error as Error).message}`);
    }
  }
  tuned.sort((x, y) => x.medianMs - y.medianMs);
  // The `--retime` fastest timed again with more repeats (a short tuning run can be lucky or unlucky); the fastest
  // median of those is reported.
  let best = tuned[0];
  let final: Awaited<ReturnType<WebGPUBackend['time']>> | undefined;
  let c: DenseMatrix | undefined;
  let verified: { samples: number; worstRatio: number } | undefined;
  const retimed: { kernel: string; medianMs: number; verified?: boolean }[] = [];
  const toRetime = tuned.slice(0, retimeCount);
  // Explore, splits and tails re-time the default (and the reference kernel) whatever their rank.
  for (const kernel of [ownKernel, referenceKernel]) {
    const entry = tuned.find((t) => t.kernel === kernel);
    if ((explore || splitSweep || tailSweep) && entry && !toRetime.includes(entry)) toRetime.push(entry);
  }
  for (const entry of toRetime) {
    backend.kernelOptions = entry.options;
    await warmClocks();
    const t = await backend.time(a, weights, { plan: entry.plan, warmup: 3, repeats: finalRepeats });
    // Every re-timed kernel is verified (a wrong kernel is logged and never reported).
    let out: DenseMatrix;
    let check1: { samples: number; worstRatio: number };
    try {
      out = await backend.matmul(a, weights, { plan: entry.plan });
      check1 = check(out);
    } catch (error) {
      log(`  ${entry.kernel}: ${(error as Error).message}`);
      retimed.push({ kernel: entry.kernel, medianMs: t.medianMs, verified: false });
      continue;
    }
    retimed.push({ kernel: entry.kernel, medianMs: t.medianMs, verified: true });
    if (!final || t.medianMs < final.medianMs) {
      final = t;
      best = entry;
      c = out;
      verified = check1;
    }
  }
  backend.kernelOptions = {};
  if (!final || !c || !verified) throw new Error('no re-timed kernel verified');
  // The backend's own untuned choice, for the record (how much tuning adds).
  const ownTuned = tuned.find((t) => t.kernel === ownKernel);
  return { best, final, c, verified, tuned, retimed, own: ownTuned ? { kernel: ownKernel, medianMs: ownTuned.medianMs } : undefined };
}

/**
 * `--loads`: device time of the Aᵀ pass alone (transpose-a.wgsl with K + 1 rows, ⌈M/4⌉ vec4s per row: the tiled
 * kernel's copy without its padding to whole row blocks) on a device of its own, after the clock warm-up, median of 20
 * passes after 3 warm-ups, in ms; `vectorLoads` (K % 4 == 0) reads A as vec4s. Needs timestamp queries.
 */
async function timeTranspose(m: number, k: number, vectorLoads: boolean): Promise<number> {
  const device = await requestTimingDevice();
  try {
    const shape = { m, k, rows: k + 1, quads: Math.ceil(m / 4) };
    const cache = new PipelineCache(device);
    const pipeline = await cache.transposeA(vectorLoads);
    const { bindGroup } = transposeBindings(device, cache, shape);
    await warmClocks();
    return await medianPassMs(device, pipeline, bindGroup, transposeGrid(shape));
  } finally {
    device.destroy();
  }
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  if (flag('--transposes')) {
    // Aᵀ candidates only: each shape's A (M×K) into K + 1 rows of ⌈M/4⌉ vec4s, plus a ragged, padded check case.
    const cases = [{ m: 1001, k: 1028, rows: 1065, quads: 256 }, ...shapes.map(({ m, k }) => ({ m, k, rows: k + 1, quads: Math.ceil(m / 4) }))];
    const results = await compareTransposes(cases, retimeCount, log);
    writeFileSync(`${outDir}/webgpu-transposes${tag ? `-${tag}` : ''}.json`, JSON.stringify({ date: new Date().toISOString(), argv: process.argv.slice(2), results }, null, 1));
    return;
  }
  const created = await createWebGPUBackend();
  if (!created.available) throw new Error(`webgpu unavailable: ${created.reason}`);
  const backend = created.backend as WebGPUBackend;
  backend.widen = option('--widen', 'auto') as WidenMode;
  log(`webgpu device: ${backend.device}; timing ${backend.capabilities.timing}; planner compute units ${backend.plannerLimits.computeUnits}, wave-tail compute units ${backend.multiprocessors}`);
  let cuda: NMBackend | undefined;
  if (!flag('--no-cuda')) {
    try {
      // Resolved by the device bundle (an esbuild alias); not a dependency of this package.
      const mod = (await import('@nmkit/cuda')) as { cudaProvider: { create(): Promise<BackendAvailability> } };
      const made = await mod.cudaProvider.create();
      if (made.available) cuda = made.backend;
      else log(`cuda unavailable: ${made.reason}`);
    } catch (error) {
      log(`cuda not bundled: ${(error as Error).message}`);
    }
  }

  const conformance = flag('--no-conformance') ? [] : await runConformance(backend, quick ? 'quick' : 'full');
  const failed = conformance.filter((r) => !r.ok);
  log(`conformance (${quick ? 'quick' : 'full'}): ${conformance.length - failed.length}/${conformance.length} passed`);
  for (const f of failed) log(`  FAIL ${f.id}: ${f.error}`);

  const rows: Row[] = [];
  const report = () => ({
    date: new Date().toISOString(),
    device: backend.device,
    computeUnits: backend.plannerLimits.computeUnits,
    multiprocessors: backend.multiprocessors,
    cudaDevice: cuda?.device,
    node: process.version,
    argv: process.argv.slice(2),
    dawnFlags: process.env.NMKIT_DAWN_FLAGS ?? '',
    elapsedS: elapsedS(),
    conformance: { scale: quick ? 'quick' : 'full', passed: conformance.length - failed.length, total: conformance.length, failed },
    rows,
  });
  const save = () => writeFileSync(`${outDir}/webgpu-bench${tag ? `-${tag}` : ''}.json`, JSON.stringify(report(), null, 1));
  const overBudget = () => budgetS > 0 && elapsedS() > budgetS;
  for (const shape of shapes) {
    const label = `${shape.m}×${shape.n}×${shape.k}`;
    if (loads) {
      for (const vectorLoads of shape.k % 4 === 0 ? [false, true] : [false]) {
        const ms = await timeTranspose(shape.m, shape.k, vectorLoads);
        log(`${label} Aᵀ pass alone${vectorLoads ? ' (vec4 loads)' : ''}: ${(ms * 1e3).toFixed(1)} µs (${((2 * shape.m * shape.k * 4) / (ms * 1e6)).toFixed(0)} GB/s moved)`);
      }
    }
    const a = randomDense(shape.m, shape.k, 1);
    let denseB: DenseMatrix | undefined;
    for (const name of patternNames) {
      if (overBudget()) {
        log(`${label} ${name}: skipped (over the ${budgetS} s budget)`);
        continue;
      }
      const pattern = patternNamed(name);
      const b = pattern ? randomCompressed(shape.k, shape.n, pattern, 2) : (denseB ??= randomDense(shape.k, shape.n, 2));
      const weights = pattern ? await backend.prepare(b as CompressedNM) : await backend.prepareDense(b as DenseMatrix);
      try {
        const { best, final, verified, tuned, retimed, own } = await tuneAndTime(backend, shape, pattern, a, weights, (c) => verify(c, a, b));
        const model = performanceModel(shape, pattern, H100_SXM);
        rows.push({
          shape: label,
          pattern: name,
          backend: 'webgpu',
          kernel: best.kernel,
          plan: best.plan,
          options: best.options,
          medianMs: final.medianMs,
          minMs: final.minMs,
          tflops: effectiveTflops(shape, final.medianMs / 1e3),
          clock: final.clock,
          verified,
          retimed,
          own,
          tuned: tuned.map((t) => ({ plan: describePlan(t.plan), kernel: t.kernel, medianMs: t.medianMs })),
          model: { bound: model.bound!, floorMs: model.floorSeconds! * 1e3, arithmeticIntensity: model.arithmeticIntensity },
        });
        const r = rows[rows.length - 1];
        log(`${label} ${name.padEnd(6)} webgpu ${r.medianMs.toFixed(3)} ms ${r.tflops.toFixed(2)} TFLOP/s  [${r.kernel}] verified ${verified.samples} (worst ${verified.worstRatio.toFixed(3)} of bound)`);
      } finally {
        weights.dispose();
      }
      save();
    }
    if (cuda) {
      denseB ??= randomDense(shape.k, shape.n, 2);
      const weights = await cuda.prepareDense!(denseB);
      try {
        await warmClocks();
        const t = await cuda.time(a, weights, { warmup: 3, repeats: finalRepeats });
        const verified = verify(await cuda.matmul(a, weights), a, denseB);
        rows.push({
          shape: label,
          pattern: 'dense',
          backend: 'cuda',
          kernel: cuda.capabilities.denseBaseline ?? 'cuBLAS',
          medianMs: t.medianMs,
          minMs: t.minMs,
          tflops: effectiveTflops(shape, t.medianMs / 1e3),
          clock: t.clock,
          verified,
          tuned: [],
        });
        log(`${label} dense  cuBLAS ${t.medianMs.toFixed(3)} ms ${rows[rows.length - 1].tflops.toFixed(2)} TFLOP/s verified`);
      } finally {
        weights.dispose();
      }
      save();
    }
  }
  save();
  clockWarmup?.dispose();
  await backend.dispose();
  await cuda?.dispose();
  log('done');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
