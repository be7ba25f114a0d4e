import type { NMPattern } from '@nmkit/format';

/** Per-column-block union lists of the high-sparsity kernel, built once per (weights, tile width, stage depth). */
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
 * Builds the union lists: for every column block of `blockN` columns and every stage of `stageWindows`
 * windows, the sorted set of K rows that some vector of the block keeps, and each kept row's position in it.
 * Needs each block to cover whole vectors (blockN % V == 0) or to lie inside one (V % blockN == 0).
 * @example buildUnionRows(weights.indices, 4096, 4096, nmPattern(8, 32, 32), 128, 2).aRows // ≤ 64
 */
export function buildUnionRows(
  indices: Uint8Array,
  k: number,
  n: number,
  pattern: NMPattern,
  blockN: number,
  stageWindows: number,
): UnionRows {
  const { keep, group, vectorLength } = pattern;
  const windows = Math.ceil(k / group);
  const vectors = Math.ceil(n / vectorLength);
  const stages = Math.ceil(windows / stageWindows);
  const colBlocks = Math.ceil(n / blockN);
  const stageRows = stageWindows * group;
  const slots = new Uint8Array(indices.length);
  const lists: Int32Array[] = [];
  const mark = new Int32Array(stageRows);
  let aRows = 0;
  for (let block = 0; block < colBlocks; block++) {
    const v0 = Math.floor((block * blockN) / vectorLength);
    const v1 = Math.floor((Math.min(n, block * blockN + blockN) - 1) / vectorLength);
    for (let stage = 0; stage < stages; stage++) {
      mark.fill(-1);
      const w0 = stage * stageWindows * keep;
      const w1 = Math.min(windows, (stage + 1) * stageWindows) * keep;
      for (let w = w0; w < w1; w++) {
        const base = Math.floor((w - w0) / keep) * group;
        for (let v = v0; v <= v1; v++) mark[base + indices[w * vectors + v]] = 0;
      }
      // Sorted by row, so staging reads A in ascending K.
      const list: number[] = [];
      for (let r = 0; r < stageRows; r++) {
        if (mark[r] === 0) {
          mark[r] = list.length;
          list.push(r);
        }
      }
      for (let w = w0; w < w1; w++) {
        const base = Math.floor((w - w0) / keep) * group;
        for (let v = v0; v <= v1; v++) slots[w * vectors + v] = mark[base + indices[w * vectors + v]];
      }
      aRows = Math.max(aRows, list.length);
      lists.push(Int32Array.from(list, (r) => stage * stageRows + r));
    }
  }
  aRows += 1;
  const rows = new Uint32Array(colBlocks * stages * aRows).fill(UNUSED);
  lists.forEach((list, i) => {
    rows.set(list, i * aRows);
  });
  return { aRows, rows, slots };
}
