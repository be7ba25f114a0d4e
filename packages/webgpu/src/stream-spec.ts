import { DECODE_MAX_M, type MatmulShape, type NMPattern, type TilingPlan } from '@nmkit/format';
import type { GpuContext } from './gpu-context.js';

/** Pipeline constants of spmm-nm-stream.wgsl (names match its `override` declarations). */
export interface StreamConstants {
  readonly MR: number;
  readonly RG: number;
  readonly RI: number;
  readonly KEEP: number;
  readonly GROUP: number;
  readonly VEC: number;
  /** V % 4 ≠ 0: each of an invocation's 4 columns reads its own index and A values. */
  readonly PERCOL: boolean;
  readonly DENSE: boolean;
  readonly ATRANS: boolean;
  readonly QUADS: number;
  readonly SLICES: number;
  readonly CHUNK: number;
  readonly WG: number;
}

/** Sizes of the stream (decode) kernel; each left out is sized to the device ({@link streamSpec}). */
export interface StreamOptions {
  /** Kept-row ranges per workgroup, summed in workgroup memory (at most 8, and the device's invocations allow). */
  readonly slices?: number;
  /** Kept-row ranges over the grid (grid z), each writing a partial C that the split-K pass sums. */
  readonly splitK?: number;
  /** Kept rows whose weight loads are in flight together (1 to 16). */
  readonly chunk?: number;
  /** Read A from a transposed copy (one vec4 per row group) instead of one scalar per row of C. */
  readonly transposeA?: boolean;
}

/**
 * The Aᵀ copy a kernel reads (transpose-a.wgsl writes it in a pass before the kernel): `rows` rows of K (past K
 * zeros: whole windows, or the zero row K) of `quads` vec4s (4 rows of C each; past M zeros).
 */
export interface TransposedA {
  readonly rows: number;
  readonly quads: number;
}

/** Workgroups of the transpose pass: one per 32 rows of K × 64 rows of C (transpose-a.wgsl's tile). */
export function transposeGrid(t: TransposedA): [number, number, number] {
  return [Math.ceil(t.rows / 32), Math.ceil(t.quads / 16), 1];
}

/** Whether an Aᵀ copy fits one storage binding and its transpose pass the device's grid. */
export function transposeFits(t: TransposedA, context: Pick<GpuContext, 'maxWorkgroupsPerDimension' | 'maxBindingBytes'>): boolean {
  return t.rows * t.quads * 16 <= context.maxBindingBytes && fitsGrid(transposeGrid(t), context);
}

/** Whether a grid is within the device's workgroups per dimension. */
export function fitsGrid(grid: readonly number[], context: Pick<GpuContext, 'maxWorkgroupsPerDimension'>): boolean {
  return grid.every((g) => g <= context.maxWorkgroupsPerDimension);
}

/** The stream kernel's spec (see {@link streamSpec}). */
export interface StreamSpec {
  readonly shader: 'stream';
  readonly constants: StreamConstants;
  readonly grid: readonly [number, number, number];
  /** Kept rows in total (rows of K for dense B) and per kept-row range (slice). */
  readonly stages: number;
  readonly stagesPerSplit: number;
  readonly splitK: number;
  readonly sharedBytes: number;
  /** With ATRANS: the Aᵀ copy (rows: K padded to whole windows; a vec4 per row group). */
  readonly transposed?: TransposedA;
  /** The plan reported for it (a decode plan: one M-row block of 4·QUADS columns, ≤ 4 × 4 per invocation). */
  readonly plan: TilingPlan;
  readonly name: string;
}

/** Column quads (4 columns) per workgroup: 128 columns; fewer where row groups × quads would pass 256 invocations (64 columns from 33 rows of C) or the device's workgroups are small. */
const QUADS = 32;
const MAX_SLICES = 8;
/** Invocations per workgroup at most (eight workgroups per H100 SM). */
const MAX_INVOCATIONS = 256;
const MAX_CHUNK = 16;
const MAX_SPLIT_K = 64;

/** Most rows of C the stream kernel takes (16 row groups of 4); see {@link streamDefaultRows} for the default. */
export const STREAM_MAX_M = 64;

/**
 * Rows of C up to which the backend runs the stream kernel by default (runs 46–47, H100, against the best tiled kernel
 * timed at M = 24–64): dense B up to 64 (1.2–2.8× faster), N:M at 1/2 density and above up to 24 (16:32 at M = 24:
 * 1.1–1.5×; at 32 to 64: 0.6–1.2×, the tiled kernel ahead from M = 32 at N = 4096), below 1/2 up to 48: runs 58–59,
 * with the tiled kernel's vec4 staging loads, timed 8:32 and 4:32 at M = 64 tiled 1.0–1.5× faster than streamed
 * (N = 4096–11008, K = 4096–11008) and 12:32 from 0.93× (64 × 4096²) to 1.6× (56 × 11008 × 4096); at M = 48 the
 * stream kernel ahead at N = 4096, the tiled one at N = 11008 for 8:32. V not a multiple of 4 (one index per column):
 * up to 16 (decode; not measured beyond).
 */
export function streamDefaultRows(pattern: NMPattern | undefined): number {
  if (!pattern) return STREAM_MAX_M;
  if (pattern.vectorLength % 4 !== 0) return DECODE_MAX_M;
  return pattern.keep * 2 >= pattern.group ? 24 : 48;
}

/**
 * Beyond decode, stream workgroups per compute unit that make one wave (run 58, H100): a grid a little over that runs a
 * mostly empty second wave, so it is trimmed to one. 24 × 11008 and 48 × 11008 in 860 workgroups (6.5 per SM) ran
 * 20–35 % slower than in 688 (5.2 per SM) at every density, 64 × 8192² in 1024 slower than in 640; grids of 512–704
 * ran fastest at N = 4096 and 8192, and 1376 (over 1.5 waves) as fast as 688 or faster.
 */
const STREAM_WORKGROUPS_PER_UNIT = 5.5;

/**
 * Why the stream kernel cannot run a problem, or `undefined` when it can: M ≤ `maxM` (default {@link DECODE_MAX_M},
 * at most {@link STREAM_MAX_M}) and N a multiple of 4 (whole vec4s per row); any pattern and V (V not a multiple of 4
 * reads an index per column).
 */
export function streamProblem(shape: MatmulShape, maxInvocations: number, maxM = DECODE_MAX_M): string | undefined {
  const rows = Math.min(maxM, STREAM_MAX_M);
  if (shape.m < 1 || shape.m > rows) return `M = ${shape.m} is outside 1–${rows}`;
  if (shape.n % 4 !== 0) return `N = ${shape.n} is not a multiple of 4`;
  if (maxInvocations < 4 * Math.ceil(shape.m / 4)) return `the device runs ${maxInvocations} invocations per workgroup, fewer than the ${Math.ceil(shape.m / 4)} row groups × 4 columns`;
  return undefined;
}

/**
 * The stream kernel for a decode-sized problem (check {@link streamProblem} first). Rows of C go in groups of 4, one
 * per invocation (16 rows in 16 accumulators per invocation ran 3–4× slower on the H100, run 43). It reads each weight
 * once, so what matters is enough loads in flight: about 1024 invocations per compute unit (each with `chunk` vec4
 * loads outstanding), made of 16 to 64 kept-row ranges (`slices` per workgroup, then grid-z splits), each at least two
 * chunks long. A is read transposed from 3 rows of C up. Partials of grid-z splits and the Aᵀ copy must fit one
 * storage binding (else fewer splits, and A read row-major).
 */
export function streamSpec(
  shape: MatmulShape,
  pattern: NMPattern | undefined,
  context: Pick<GpuContext, 'limits' | 'maxWorkgroupsPerDimension' | 'maxBindingBytes'> & { readonly software?: boolean; readonly multiprocessors?: number },
  options: StreamOptions = {},
): StreamSpec {
  const keep = pattern?.keep ?? 1;
  const group = pattern?.group ?? 1;
  const windows = Math.ceil(shape.k / group);
  const keptRows = windows * keep;
  const rowGroups = Math.ceil(shape.m / 4);
  const invocations = Math.min(MAX_INVOCATIONS, context.limits.maxThreadsPerBlock);
  const quads = Math.min(QUADS, 2 ** Math.floor(Math.log2(invocations / rowGroups)));
  const colBlocks = Math.ceil(shape.n / 4 / quads);
  const chunk = clamp(options.chunk ?? (context.software ? 4 : 8), 1, MAX_CHUNK);
  const maxSlices = Math.max(1, Math.min(MAX_SLICES, Math.floor(invocations / (rowGroups * quads))));
  const units = context.multiprocessors ?? context.limits.computeUnits;
  // Kept-row ranges (slices × splits): ~1024 invocations per compute unit, none shorter than two chunks; 16 to 64
  // ranges (run 44, H100: within 6 % of the fastest of 12–16 sizes timed for 28 problems, M 1–16, N 4096–24576),
  // beyond 16 rows 256 / M to 16, as each range's partial C is M rows (runs 46–47).
  const cells = colBlocks * quads * rowGroups;
  const [minRanges, maxRanges] = shape.m > DECODE_MAX_M ? [Math.max(1, Math.floor(256 / shape.m)), 16] : [16, 64];
  const byFill = Math.min(maxRanges, Math.max(minRanges, Math.ceil((units * 1024) / cells)));
  const wanted = Math.max(1, Math.min(byFill, Math.floor(keptRows / (2 * chunk))));
  const slices = clamp(options.slices ?? Math.min(maxSlices, wanted), 1, maxSlices);
  let splitK = clamp(options.splitK ?? Math.ceil(wanted / slices), 1, MAX_SPLIT_K);
  while (splitK > 1 && splitK * shape.m * shape.n * 4 > context.maxBindingBytes) splitK--;
  // Beyond decode, a grid between one and one and a half waves is trimmed to one (STREAM_WORKGROUPS_PER_UNIT).
  const wave = STREAM_WORKGROUPS_PER_UNIT * units;
  if (shape.m > DECODE_MAX_M && options.splitK === undefined && colBlocks * splitK > wave && colBlocks * splitK < 1.5 * wave) {
    splitK = Math.max(1, Math.floor(wave / colBlocks));
  }
  // Ranges of whole chunks where they are longer than one; no empty grid slices.
  let perSlice = Math.max(1, Math.ceil(keptRows / (slices * splitK)));
  if (perSlice > chunk) perSlice = Math.ceil(perSlice / chunk) * chunk;
  splitK = Math.max(1, Math.ceil(Math.ceil(keptRows / perSlice) / slices));
  // Aᵀ from 3 rows of C (run 44, M = 4: 16:32 0.023 against 0.034 ms at 4096²), where the copy fits one binding.
  const transposed: TransposedA = { rows: windows * group, quads: rowGroups };
  const transposeA = (options.transposeA ?? shape.m >= 3) && transposeFits(transposed, context);
  const constants: StreamConstants = {
    MR: shape.m,
    RG: rowGroups,
    RI: Math.min(shape.m, 4),
    KEEP: keep,
    GROUP: group,
    VEC: pattern?.vectorLength ?? 4,
    PERCOL: pattern !== undefined && pattern.vectorLength % 4 !== 0,
    DENSE: !pattern,
    ATRANS: transposeA,
    QUADS: quads,
    SLICES: slices,
    CHUNK: chunk,
    WG: rowGroups * quads * slices,
  };
  const columns = 4 * quads;
  return {
    shader: 'stream',
    constants,
    grid: [colBlocks, 1, splitK],
    stages: keptRows,
    stagesPerSplit: perSlice,
    splitK,
    sharedBytes: ((slices - 1) * rowGroups * quads * 4 + 4) * 16,
    transposed: transposeA ? transposed : undefined,
    plan: {
      variant: 'decode',
      block: { m: shape.m, n: columns, k: Math.ceil((perSlice * slices * group) / keep) },
      warp: { m: shape.m, n: columns },
      thread: { m: constants.RI, n: 4 },
      splitK,
      stages: 1,
      threads: constants.WG,
    },
    name: `${pattern ? 'spmm-nm-stream' : 'matmul-dense-stream'} ${shape.m}×${columns} (${rowGroups > 1 ? `${rowGroups} row groups, ` : ''}${slices} slices of ${perSlice} kept rows, chunk ${chunk}${transposeA ? ', Aᵀ' : ''}) split-K ${splitK}`,
  };
}

function clamp(x: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, Math.round(x)));
}
