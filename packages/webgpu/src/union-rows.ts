import type { NMPattern } from '@nmkit/format';

/** Per-column-block union lists of the union-row kernels, built once per (weights, tile width, stage depth). */
export interface UnionRows {
  /** Longest list over all (column block, stage) plus one: the staged A tile's row count. The last row is
   * always unused (zero), for kept rows past the end of B to read. */
  readonly aRows: number;
  /** `[colBlocks][stages][aRows]` rows of K to stage; unused entries hold 0xffffffff (staged as zeros). */
  readonly rows: Uint32Array;
  /** `[keptRows][vectors]` bytes: the position, in its block's list for its stage, of each kept row. */
  readonly slots: Uint8Array;
}

/** Row marker for unused list entries: never < K, so the kernel stages a zero. */
const UNUSED = 0xffffffff;

/**
 * Builds the union lists: for every column block of `blockN` columns and every stage of `stageKept` kept rows, the
 * sorted set of K rows that some vector of the block keeps there, and each kept row's position in it. A stage is
 * whole windows (`stageKept` a multiple of `keep`) or, for long windows, a part of one (`stageKept` divides `keep`:
 * kept rows [p·stageKept, (p+1)·stageKept) of the window, by rank, for every vector). Needs each block to cover whole
 * vectors (blockN % V == 0) or to lie inside one (V % blockN == 0).
 * @example buildUnionRows(weights.indices, 4096, 4096, nmPattern(8, 32, 32), 128, 16).aRows // ≤ 65
 */
export function buildUnionRows(
  indices: Uint8Array,
  k: number,
  n: number,
  pattern: NMPattern,
  blockN: number,
  stageKept: number,
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
  const slots = new Uint8Array(indices.length);
  const lists: Int32Array[] = [];
  const mark = new Int32Array(spanRows);
  let aRows = 0;
  for (let block = 0; block < colBlocks; block++) {
    const v0 = Math.floor((block * blockN) / vectorLength);
    const v1 = Math.floor((Math.min(n, block * blockN + blockN) - 1) / vectorLength);
    for (let stage = 0; stage < stages; stage++) {
      mark.fill(-1);
      const w0 = stage * stageKept;
      const w1 = Math.min(keptRows, w0 + stageKept);
      const firstWindow = Math.floor(w0 / keep);
      const rowOf = (w: number) => (Math.floor(w / keep) - firstWindow) * group;
      for (let w = w0; w < w1; w++) {
        const base = rowOf(w);
        for (let v = v0; v <= v1; v++) mark[base + indices[w * vectors + v]] = 0;
      }
      // Sorted by row, so staging reads A in ascending K.
      const list: number[] = [];
      for (let r = 0; r < spanRows; r++) {
        if (mark[r] === 0) {
          mark[r] = list.length;
          list.push(r);
        }
      }
      for (let w = w0; w < w1; w++) {
        const base = rowOf(w);
        for (let v = v0; v <= v1; v++) slots[w * vectors + v] = mark[base + indices[w * vectors + v]];
      }
      aRows = Math.max(aRows, list.length);
      lists.push(Int32Array.from(list, (r) => firstWindow * group + r));
    }
  }
  aRows += 1;
  const rows = new Uint32Array(colBlocks * stages * aRows).fill(UNUSED);
  lists.forEach((list, i) => {
    rows.set(list, i * aRows);
  });
  return { aRows, rows, slots };
}
