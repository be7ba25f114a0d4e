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
  // One walk of the indices serves both stagings: the union's fill decides, the same kept rows build either layout.
  const kept = keptRowsByStage(matrix, STAGE_KEPT);
  if (staging === 'per-vector') return perVectorLayout(kept);
  const union = unionLayout(kept);
  if (staging === 'union' || union.meanRows < PER_VECTOR_MIN_FILL * STAGE_KEPT * WARPS_N) return union;
  return perVectorLayout(kept);
}

/**
 * Re-tiles the indices of `matrix` for the tiled kernels: for every column tile of 128 and every stage of `ks` kept
 * rows, the sorted union of the dense rows of A that any warp-column uses (plus one zero row when a kept row points
 * into K padding or past the last window), and each (kept row, warp-column)'s slot in that list. At high sparsity
 * the union is much smaller than the rows the stage spans, so only the used rows of A are staged.
 * @example const layout = retileIndices(pruneByMagnitude(b, nmPattern(4, 32, 32))); layout.loadedFraction // ≈ 0.4
 */
export function retileIndices(matrix: CompressedNM, ks = STAGE_KEPT, staging: Staging = 'union'): TiledLayout {
  const kept = keptRowsByStage(matrix, ks);
  return staging === 'per-vector' ? perVectorLayout(kept) : unionLayout(kept);
}

/** The dense row of A each (tile, stage, warp-column, kept row) multiplies: one walk of the format's indices. */
interface KeptRows {
  readonly ks: number;
  readonly stages: number;
  readonly tilesN: number;
  /** `[tilesN][stages][WARPS_N · ks]`: entry `c·ks + r` is kept row r of warp-column c, or {@link ZERO_ROW}. */
  readonly rows: Int32Array;
  /** Dense rows of A the stages span (at least 1 each), summed over every (tile, stage): the denominator of {@link TiledLayout.loadedFraction}. */
  readonly spanned: number;
  /** The first dense row of A each stage spans (its first window's first row). */
  readonly stageBase: Int32Array;
  /** The most dense rows any stage spans: every kept row of a stage lies in `[stageBase, stageBase + maxSpan)`. */
  readonly maxSpan: number;
}

function keptRowsByStage(matrix: CompressedNM, ks: number): KeptRows {
  const { rows: K, cols: N, pattern, indices } = matrix;
  const { keep, group, vectorLength } = pattern;
  if (!hasTiledPath(pattern)) throw new RangeError(`retileIndices needs V a multiple of ${WARP_N}, got V=${vectorLength}`);
  if (!Number.isInteger(ks) || ks < 1 || ks > 255) throw new RangeError(`ks must be an integer in [1, 255], got ${ks}`);
  const layout = compressedLayout(K, N, pattern);
  const stages = Math.ceil(layout.keptRows / ks);
  const tilesN = Math.ceil(N / TILE_N);
  const perStage = ks * WARPS_N;
  const rows = new Int32Array(tilesN * stages * perStage).fill(ZERO_ROW);
  for (let tile = 0; tile < tilesN; tile++) {
    for (let c = 0; c < WARPS_N; c++) {
      const col = (tile * WARPS_N + c) * WARP_N;
      if (col >= N) continue;
      const vector = Math.floor(col / vectorLength);
      for (let w = 0; w < layout.keptRows; w++) {
        const offset = indices[w * layout.vectors + vector];
        if (offset >= group) throw new RangeError(`index ${offset} of kept row ${w}, vector ${vector} is not < group ${group} (validateCompressed() names such errors)`);
        const k = Math.floor(w / keep) * group + offset;
        const stage = Math.floor(w / ks);
        if (k < K) rows[(tile * stages + stage) * perStage + c * ks + (w - stage * ks)] = k;
      }
    }
  }
  let spanned = 0;
  let maxSpan = 1;
  const stageBase = new Int32Array(stages);
  for (let stage = 0; stage < stages; stage++) {
    const first = stage * ks;
    const last = Math.min((stage + 1) * ks, layout.keptRows) - 1;
    stageBase[stage] = Math.floor(first / keep) * group;
    const windowsSpan = (Math.floor(last / keep) + 1) * group - stageBase[stage];
    maxSpan = Math.max(maxSpan, windowsSpan);
    spanned += Math.max(1, Math.min(K, stageBase[stage] + windowsSpan) - stageBase[stage]);
  }
  return { ks, stages, tilesN, rows, spanned: spanned * tilesN, stageBase, maxSpan };
}

/** Bytes of slots per (tile, stage): one per kept row and warp-column, rounded up to 16 for the kernel's vector loads. */
function slotStrideOf(ks: number): number {
  return Math.ceil((ks * WARPS_N) / 16) * 16;
}

/** Every warp-column's kept rows in order ({@link Staging} `per-vector`); the slots are the identity. Takes `kept.rows` as its row lists (no copy). */
function perVectorLayout(kept: KeptRows): TiledLayout {
  const { ks, stages, tilesN, rows } = kept;
  const srows = ks * WARPS_N;
  if (srows > 255) throw new RangeError(`a stage stages ${srows} rows; slots are bytes (≤ 255)`);
  const slotStride = slotStrideOf(ks);
  // The kernel does not read per-vector slots; the identity keeps the layout self-describing.
  const slots = new Uint8Array(tilesN * stages * slotStride);
  for (let i = 0; i < tilesN * stages; i++) for (let j = 0; j < srows; j++) slots[i * slotStride + j] = j;
  let loaded = 0;
  for (const row of rows) if (row >= 0) loaded++;
  return { ks, srows, stages, tilesN, slotStride, rows, slots, loadedFraction: loaded / kept.spanned, meanRows: srows, staging: 'per-vector' };
}

/** The sorted union of each (tile, stage)'s kept rows ({@link Staging} `union`) and every kept row's slot in it. */
function unionLayout(kept: KeptRows): TiledLayout {
  const { ks, stages, tilesN, rows, stageBase } = kept;
  const perStage = ks * WARPS_N;
  const slotStride = slotStrideOf(ks);
  const count = tilesN * stages;
  const slots = new Uint8Array(count * slotStride);
  const lists = new Int32Array(count * perStage);
  const lengths = new Uint8Array(count);
  // slotOfRow[row - base + 1] is the row's slot in the current stage's list (index 0: the zero row), base the stage's
  // first spanned row, so the table is one stage long, not K; only rows of the current list are looked up, so stale
  // entries from earlier stages are never read.
  const slotOfRow = new Int32Array(kept.maxSpan + 1);
  const sorted = new Int32Array(perStage);
  let srows = 1;
  let loaded = 0;
  let listed = 0;
  for (let i = 0; i < count; i++) {
    const used = rows.subarray(i * perStage, (i + 1) * perStage);
    const offset = 1 - stageBase[i % stages]; // table index of a row; the zero row (-1) is index 0
    sorted.set(used);
    sorted.sort();
    let length = 0;
    for (let j = 0; j < perStage; j++) {
      if (length > 0 && sorted[j] === lists[i * perStage + length - 1]) continue;
      lists[i * perStage + length] = sorted[j];
      slotOfRow[sorted[j] < 0 ? 0 : sorted[j] + offset] = length;
      if (sorted[j] >= 0) loaded++;
      length++;
    }
    if (length > 255) throw new RangeError(`a stage stages ${length} rows; slots are bytes (≤ 255)`);
    for (let j = 0; j < perStage; j++) slots[i * slotStride + j] = slotOfRow[used[j] < 0 ? 0 : used[j] + offset];
    lengths[i] = length;
    listed += length;
    srows = Math.max(srows, length);
  }
  const staged = new Int32Array(count * srows).fill(UNUSED_ROW);
  for (let i = 0; i < count; i++) staged.set(lists.subarray(i * perStage, i * perStage + lengths[i]), i * srows);
  return { ks, srows, stages, tilesN, slotStride, rows: staged, slots, loadedFraction: loaded / kept.spanned, meanRows: listed / count, staging: 'union' };
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
