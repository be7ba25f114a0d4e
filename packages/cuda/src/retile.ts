import { type CompressedNM, compressedLayout, type NMPattern } from '@nmkit/format';

/** Columns of C per thread block of the tiled kernels (native/kernels/kernel-args.h, kTileN). */
export const TILE_N = 128;
/** Columns per warp: one warp-column shares one index, so V must be a multiple of it. */
export const WARP_N = 32;
const WARPS_N = TILE_N / WARP_N;

/** Row-list entry of a staged zero row (K padding, padded kept rows). */
export const ZERO_ROW = -1;
/** Row-list entry of an unused slot (nothing reads it, nothing is copied). */
export const UNUSED_ROW = -2;

/** Host-side index re-tiling for the tiled kernels, built once at prepare time. */
export interface TiledLayout {
  /** Kept rows per stage. */
  readonly ks: number;
  /** Capacity of each stage's row list (largest union). */
  readonly srows: number;
  /** Stages along K: ⌈keptRows / ks⌉. */
  readonly stages: number;
  /** Column tiles of {@link TILE_N}. */
  readonly tilesN: number;
  /** Bytes of slots per (tile, stage), a multiple of 16. */
  readonly slotStride: number;
  /** `[tilesN][stages][srows]`: dense row of A staged in each slot ({@link ZERO_ROW}, {@link UNUSED_ROW}). */
  readonly rows: Int32Array;
  /** `[tilesN][stages][slotStride]`: byte `c·ks + r` is the slot kept row r of the stage uses in warp-column c. */
  readonly slots: Uint8Array;
  /** Mean staged rows per (tile, stage) over the dense rows the stage spans: the fraction of A the kernel loads. */
  readonly loadedFraction: number;
  /** Mean length of a (tile, stage)'s row list, zero rows included: the rows a stage copies on average. */
  readonly meanRows: number;
  /** How the row lists are built ({@link Staging}). */
  readonly staging: Staging;
}

/**
 * How a stage's row list is built. `union`: the sorted union of the rows any warp-column of the tile uses, each kept
 * row finding its row through a slot (the fewest rows staged: at 4:32 about 41 % of the rows the stage spans).
 * `per-vector`: every warp-column's own kept rows in order (entry c·ks + r is kept row r of warp-column c, a row two
 * warp-columns use is staged twice), so the kernel reads each fragment at a fixed offset and decodes no slots; it
 * stages 4·ks rows, which at 16 kept rows per stage fits the 64-row lists.
 */
export type Staging = 'union' | 'per-vector';

/** True when the tiled kernels can run this pattern: every warp-column of 32 lies inside one vector. */
export function hasTiledPath(pattern: NMPattern): boolean {
  return pattern.vectorLength % WARP_N === 0;
}

/** Kept rows per stage of the tiled kernels (native kStageKept): a stage may cut a window, the row lists say which rows. */
export const STAGE_KEPT = 16;

/** Kept rows per stage of the wide kernel instances (native kWideStageKept), for weights of density ½ or more. */
export const WIDE_STAGE_KEPT = 32;
/** Kept rows per stage of the middle instances (native kMidStageKept): two whole windows at 12:32. */
export const MID_STAGE_KEPT = 24;
/**
 * Staged rows a stage's list may hold (native kMaxStageRows): 16 kept rows × 4 warp-columns, and the most a long
 * stage may take so that two stages of a 128-row block still leave room for two blocks per SM.
 */
export const MAX_STAGE_ROWS = 64;

/**
 * Kept rows per stage the kernels use for a pattern: the longest of {@link WIDE_STAGE_KEPT} (32),
 * {@link MID_STAGE_KEPT} (24) and {@link STAGE_KEPT} (16) whose stage spans at most 64 rows of A (32 at density ½ or
 * more, 24 at 12:32, else 16). Longer stages mean fewer barriers, row-list fetches and slot loads per FMA. Windows
 * longer or shorter than a stage are cut or merged (4 windows per stage at 4:32), which the explicit row lists allow.
 * @example stageKeptRows(nmPattern(16, 32, 32)) // 32
 */
export function stageKeptRows(pattern: NMPattern): number {
  for (const ks of [WIDE_STAGE_KEPT, MID_STAGE_KEPT]) {
    if (Math.ceil(ks / pattern.keep) * pattern.group <= MAX_STAGE_ROWS) return ks;
  }
  return STAGE_KEPT;
}

/**
 * Per-vector staging is chosen (`auto`) where the union lists already hold at least this share of the 4·16 rows
 * per-vector lists stage: there the union saves few copies, and dropping the slot decode saves more. Measured on the
 * H100 (results/experiments-2026-11-24/per-vector/): random 4:32 and 8:32 masks at V = 32 fill 83 % and 68 % of
 * the lists and ran 0.2–2.4 % faster per-vector; at V = 64 and more, warp-columns share vectors, the union is half
 * the size or less and per-vector lists would copy every row two or more times.
 */
export const PER_VECTOR_MIN_FILL = 0.6;

/**
 * {@link retileIndices} with the stage size the kernels take for these weights: {@link stageKeptRows} where every
 * stage's row list then fits 64 rows, else 16 kept rows, then staged as `staging` says. `auto` (the default) takes
 * per-vector lists at 16 kept rows where the union fills at least {@link PER_VECTOR_MIN_FILL} of them; long stages
 * (24 or 32 kept rows) always stage the union (per-vector lists would pass 64 rows).
 * @example retileForKernels(pruneByMagnitude(b, nmPattern(2, 4, 32))).ks // 32
 * @example retileForKernels(randomCompressed(4096, 512, nmPattern(4, 32, 32))).staging // 'per-vector'
 */
export function retileForKernels(matrix: CompressedNM, staging: Staging | 'auto' = 'auto'): TiledLayout {
  const ks = stageKeptRows(matrix.pattern);
  if (ks !== STAGE_KEPT) {
    const long = retileIndices(matrix, ks);
    if (long.srows <= MAX_STAGE_ROWS) return long;
  }
  if (staging === 'per-vector') return retileIndices(matrix, STAGE_KEPT, 'per-vector');
  const union = retileIndices(matrix, STAGE_KEPT);
  if (staging === 'union' || union.meanRows < PER_VECTOR_MIN_FILL * STAGE_KEPT * WARPS_N) return union;
  return retileIndices(matrix, STAGE_KEPT, 'per-vector');
}

/**
 * Re-tiles the indices of `matrix` for the tiled kernels: for every column tile of 128 and every stage of `ks` kept
 * rows, the sorted union of the dense rows of A that any warp-column uses (plus one zero row when a kept row points
 * into K padding or past the last window), and each (kept row, warp-column)'s slot in that list. At high sparsity
 * the union is much smaller than the rows the stage spans, so only the used rows of A are staged.
 * @example const layout = retileIndices(pruneByMagnitude(b, nmPattern(4, 32, 32))); layout.loadedFraction // ≈ 0.4
 */
export function retileIndices(matrix: CompressedNM, ks = STAGE_KEPT, staging: Staging = 'union'): TiledLayout {
  const { rows: K, cols: N, pattern, indices } = matrix;
  const { keep, group, vectorLength } = pattern;
  if (!hasTiledPath(pattern)) throw new RangeError(`retileIndices needs V a multiple of ${WARP_N}, got V=${vectorLength}`);
  if (!Number.isInteger(ks) || ks < 1 || ks > 255) throw new RangeError(`ks must be an integer in [1, 255], got ${ks}`);
  const layout = compressedLayout(K, N, pattern);
  const stages = Math.ceil(layout.keptRows / ks);
  const tilesN = Math.ceil(N / TILE_N);
  const slotStride = Math.ceil((ks * WARPS_N) / 16) * 16;
  const lists: Int32Array[] = [];
  const slots = new Uint8Array(tilesN * stages * slotStride);
  const used = new Int32Array(ks * WARPS_N);
  let srows = 1;
  let loaded = 0;
  let spanned = 0;
  let listed = 0;
  for (let tile = 0; tile < tilesN; tile++) {
    for (let stage = 0; stage < stages; stage++) {
      for (let r = 0; r < ks; r++) {
        const w = stage * ks + r;
        for (let c = 0; c < WARPS_N; c++) {
          const col = (tile * WARPS_N + c) * WARP_N;
          let row = ZERO_ROW;
          if (w < layout.keptRows && col < N) {
            const k = Math.floor(w / keep) * group + indices[w * layout.vectors + Math.floor(col / vectorLength)];
            if (k < K) row = k;
          }
          used[c * ks + r] = row;
        }
      }
      const list = staging === 'per-vector' ? used.slice() : Int32Array.from(new Set(used)).sort();
      if (list.length > 255) throw new RangeError(`a stage stages ${list.length} rows; slots are bytes (≤ 255)`);
      const slotOf = new Map<number, number>();
      if (staging === 'union') for (let i = 0; i < list.length; i++) slotOf.set(list[i], i);
      const base = (tile * stages + stage) * slotStride;
      // Per-vector slots are the identity (the kernel does not read them; they keep the layout self-describing).
      for (let i = 0; i < ks * WARPS_N; i++) slots[base + i] = staging === 'union' ? slotOf.get(used[i])! : i;
      lists.push(list);
      listed += list.length;
      srows = Math.max(srows, list.length);
      const first = Math.min(stage * ks, layout.keptRows - 1);
      const last = Math.min((stage + 1) * ks, layout.keptRows) - 1;
      const span = Math.min(K, (Math.floor(last / keep) + 1) * group) - Math.floor(first / keep) * group;
      loaded += list.filter((row) => row >= 0).length;
      spanned += Math.max(1, span);
    }
  }
  const rows = new Int32Array(tilesN * stages * srows).fill(UNUSED_ROW);
  for (let i = 0; i < lists.length; i++) rows.set(lists[i], i * srows);
  return { ks, srows, stages, tilesN, slotStride, rows, slots, loadedFraction: loaded / spanned, meanRows: listed / lists.length, staging };
}

/**
 * Values laid out for the kernels: `paddedRows × ldb` with `ldb = N` rounded up to 4 (16-byte rows for vector loads)
 * and zero rows past the kept rows (whole stages).
 * @example padValues(matrix, 64).length // 64 · ⌈N/4⌉·4
 */
export function padValues(matrix: CompressedNM, paddedRows: number): { values: Float32Array; ldb: number } {
  const N = matrix.cols;
  const ldb = Math.ceil(N / 4) * 4;
  const keptRows = matrix.values.length / N;
  if (ldb === N && paddedRows === keptRows) return { values: matrix.values.slice(), ldb };
  const values = new Float32Array(paddedRows * ldb);
  for (let w = 0; w < keptRows; w++) values.set(matrix.values.subarray(w * N, (w + 1) * N), w * ldb);
  return { values, ldb };
}
