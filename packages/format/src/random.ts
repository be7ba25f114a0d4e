import type { CompressedNM } from './compressed.js';
import { compressedLayout } from './compressed.js';
import { type DenseMatrix, denseMatrix } from './dense.js';
import type { NMPattern } from './pattern.js';

/**
 * A small seeded PRNG (SplitMix32): tests and benchmarks reproduce their inputs from a seed.
 * @example const rand = seededRandom(42); rand(); // in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/**
 * A rows×cols matrix of uniform values in [-1, 1).
 * @throws {ShapeError} when the dimensions are not non-negative integers.
 * @throws {LimitError} when rows·cols elements are more than a Float32Array can hold here.
 */
export function randomDense(rows: number, cols: number, seed = 1): DenseMatrix {
  const matrix = denseMatrix(rows, cols); // validates the dimensions and allocates
  const rand = seededRandom(seed);
  const data = matrix.data;
  for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
  return matrix;
}

/**
 * A random compressed matrix: a uniformly random kept set per (window, vector) and uniform values in [-1, 1).
 * Builds in O(output) without a dense matrix, so benchmarks can make large weights quickly.
 */
export function randomCompressed(rows: number, cols: number, pattern: NMPattern, seed = 2): CompressedNM {
  const layout = compressedLayout(rows, cols, pattern);
  const rand = seededRandom(seed);
  const { keep, group } = pattern;
  const values = new Float32Array(layout.valuesLength);
  const indices = new Uint8Array(layout.indicesLength);
  const pool = new Int32Array(group);
  for (let window = 0; window < layout.windows; window++) {
    const realRows = Math.min(group, rows - window * group);
    for (let vector = 0; vector < layout.vectors; vector++) {
      // Partial Fisher–Yates over the real rows; a window shorter than `keep` keeps them all plus padding.
      const candidates = Math.max(realRows, keep);
      for (let i = 0; i < candidates; i++) pool[i] = i;
      for (let j = 0; j < keep; j++) {
        const pick = j + Math.floor(rand() * (candidates - j));
        const t = pool[j];
        pool[j] = pool[pick];
        pool[pick] = t;
      }
      const chosen = Array.from(pool.subarray(0, keep)).sort((x, y) => x - y);
      for (let j = 0; j < keep; j++) indices[(window * keep + j) * layout.vectors + vector] = chosen[j];
    }
  }
  for (let w = 0; w < layout.keptRows; w++) {
    const window = Math.floor(w / keep);
    for (let c = 0; c < cols; c++) {
      const offset = indices[w * layout.vectors + Math.floor(c / pattern.vectorLength)];
      values[w * cols + c] = window * group + offset < rows ? rand() * 2 - 1 : 0;
    }
  }
  return { rows, cols, pattern: { ...pattern }, values, indices };
}
