import type { NMPattern } from '@nmkit/format';

/** Per-column-block union lists of the union-row kernels, built once per (weights, tile width, stage depth). */
export interface UnionRows {
  /** The staged A tile's row count: the longest list over all (column block, stage), and one more where a stage short
   * of kept rows (the last) has a list that long: that stage's last row is unused (zero), for kept rows past the end
   * of B to read. */
  readonly aRows: number;
  /** `[colBlocks][stages][aRows]` rows of K to stage; unused entries hold 0xffffffff (staged as zeros). */
  readonly rows: Uint32Array;
  /** `[keptRows][vectors]` bytes: the position, in its block's list for its stage, of each kept row. */
  readonly slots: Uint8Array;
}

/** Which kept rows a stage covers: `keptPerStage` consecutive compressed rows (whole windows, or a part of each). */
export interface StageRows {
  /** A multiple of `keep` (whole windows) or a divisor of it (parts of every window, by kept rank). */
  readonly keptPerStage: number;
}

/** Row marker for unused list entries: never < K, so the kernel stages a zero. */
const UNUSED = 0xffffffff;

/**
 * Builds the union lists: for every column block of `blockN` columns and every stage of `keptPerStage` kept rows, the
 * sorted set of K rows that some vector of the block keeps there, and each kept row's position in it. A block inside
 * one vector (`V % blockN == 0`) lists its vector's kept rows in kept order instead, so kept row `w0 + i` of a stage
 * is at position `i` ({@link keptOrderLists}: the kernel then needs no slots). A stage is
 * whole windows (`keptPerStage` a multiple of `keep`) or, for long windows, a part of one (`keptPerStage` divides
 * `keep`: kept rows [p·keptPerStage, (p+1)·keptPerStage) of the window, by rank, for every vector). Needs each block to
 * cover whole vectors (blockN % V == 0) or to lie inside one (V % blockN == 0).
 * @example buildUnionRows(weights.indices, 4096, 4096, nmPattern(8, 32, 32), 128, { keptPerStage: 16 }).aRows // ≤ 65
 */
export function buildUnionRows(
  indices: Uint8Array,
  k: number,
  n: number,
  pattern: NMPattern,
  blockN: number,
  { keptPerStage: stageKept }: StageRows,
): UnionRows {
  const { keep, group, vectorLength } = pattern;
  if (stageKept % keep !== 0 && keep % stageKept !== 0) {
    throw new RangeError(`a stage of ${stageKept} kept rows is neither whole windows nor a part of one (keep ${keep})`);
  }
  const windows = Math.ceil(k / group);
  const keptRows = windows * keep;
  const vectors = Math.ceil(n / vectorLength);
  const stages = Math.ceil(keptRows / stageKept);
  const colBlocks = Math.ceil(n / blockN);
  const spanRows = Math.ceil(stageKept / keep) * group; // dense rows of K one stage can reach
  // mark[r]: the stage's dense row r is kept by some vector of the block (the pass's tag), then its list position.
  const mark = new Int32Array(spanRows).fill(-1);
  const position = new Int32Array(spanRows);
  let tag = 0;
  // Marks the rows one (block, stage) keeps; returns how many. Two passes over every (block, stage), the first for
  // the longest list (the tile's row count), the second writing lists and slots into their final arrays: no list
  // objects, whose count reaches millions at large K × N.
  const markStage = (v0: number, v1: number, w0: number, w1: number): number => {
    tag++;
    let count = 0;
    const firstWindow = Math.floor(w0 / keep);
    for (let w = w0; w < w1; w++) {
      const base = (Math.floor(w / keep) - firstWindow) * group;
      for (let v = v0; v <= v1; v++) {
        const r = base + indices[w * vectors + v];
        if (mark[r] !== tag) {
          mark[r] = tag;
          count++;
        }
      }
    }
    return count;
  };
  const keptOrder = keptOrderLists(pattern, blockN);
  const forEachStage = (visit: (v0: number, v1: number, w0: number, w1: number, list: number) => void) => {
    for (let block = 0; block < colBlocks; block++) {
      const v0 = Math.floor((block * blockN) / vectorLength);
      const v1 = Math.floor((Math.min(n, block * blockN + blockN) - 1) / vectorLength);
      for (let stage = 0; stage < stages; stage++) {
        const w0 = stage * stageKept;
        visit(v0, v1, w0, Math.min(keptRows, w0 + stageKept), block * stages + stage);
      }
    }
  };
  let longest = 0;
  let longestPartial = -1; // the longest list of a stage short of kept rows (the last, when keptRows % stageKept ≠ 0)
  if (!keptOrder) {
    forEachStage((v0, v1, w0, w1) => {
      const count = markStage(v0, v1, w0, w1);
      longest = Math.max(longest, count);
      if (w1 - w0 < stageKept) longestPartial = Math.max(longestPartial, count);
    });
  }
  // Only a stage short of kept rows has kept rows past the end of B (they read the last row): one row past its
  // longest list; full stages need no zero row. Kept-order lists: kept row w0 + i may read row i (no slots), so every
  // stage has `stageKept` rows, a short one's last rows unused (zero).
  const aRows = keptOrder ? stageKept : Math.max(longest, longestPartial + 1);
  const rows = new Uint32Array(colBlocks * stages * aRows).fill(UNUSED);
  const slots = new Uint8Array(indices.length);
  forEachStage((v0, v1, w0, w1, list) => {
    if (keptOrder) {
      // One vector: its kept rows as they are (distinct within a stage), kept row w0 + i at position i.
      for (let w = w0; w < w1; w++) {
        rows[list * aRows + w - w0] = Math.floor(w / keep) * group + indices[w * vectors + v0];
        slots[w * vectors + v0] = w - w0;
      }
      return;
    }
    markStage(v0, v1, w0, w1);
    const firstWindow = Math.floor(w0 / keep);
    // Sorted by row, so staging reads A in ascending K.
    let length = 0;
    for (let r = 0; r < spanRows; r++) {
      if (mark[r] !== tag) continue;
      position[r] = length;
      rows[list * aRows + length++] = firstWindow * group + r;
    }
    for (let w = w0; w < w1; w++) {
      const base = (Math.floor(w / keep) - firstWindow) * group;
      for (let v = v0; v <= v1; v++) slots[w * vectors + v] = position[base + indices[w * vectors + v]];
    }
  });
  return { aRows, rows, slots };
}

/**
 * Whether {@link buildUnionRows} lists a block's rows in kept order (kept row `w0 + i` of every stage at position `i`):
 * blocks inside one vector (`V % blockN == 0`), which stage exactly their vector's kept rows.
 */
export function keptOrderLists(pattern: NMPattern, blockN: number): boolean {
  return pattern.vectorLength % blockN === 0;
}
