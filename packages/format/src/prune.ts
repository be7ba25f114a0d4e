import { type CompressedNM, compressedLayout } from './compressed.js';
import { assertDenseMatrix, type DenseMatrix } from './dense.js';
import { MaskError, ShapeError } from './errors.js';
import { describePattern, type NMPattern } from './pattern.js';

/**
 * Prunes dense B (K×N) to `pattern` by magnitude: in every (window, vector) keep the `keep` rows with the
 * largest |value| summed over the vector's columns. Ties go to the lower row, so the result is deterministic;
 * a NaN anywhere in a row ranks that row first, so NaN is never silently dropped.
 * @example const sparse = pruneByMagnitude(weights, nmPattern(8, 32, 32));
 */
export function pruneByMagnitude(b: DenseMatrix, pattern: NMPattern): CompressedNM {
  assertDenseMatrix(b, 'B');
  compressedLayout(b.rows, b.cols, pattern);
  const { keep, group } = pattern;
  const scores = new Float64Array(group);
  const order = new Int32Array(group);
  const chosen = new Int32Array(keep);
  return buildCompressed(b, pattern, ({ r0, realRows, c0, c1 }) => {
    for (let i = 0; i < group; i++) {
      let score = i < realRows ? 0 : -1; // padding rows lose to any real row
      if (i < realRows) {
        const rowBase = (r0 + i) * b.cols;
        for (let c = c0; c < c1; c++) score += Math.abs(b.data[rowBase + c]);
        if (Number.isNaN(score)) score = Number.POSITIVE_INFINITY;
      }
      scores[i] = score;
      order[i] = i;
    }
    // Stable selection: highest score first, lower offset on ties.
    order.sort((x, y) => scores[y] - scores[x] || x - y);
    for (let j = 0; j < keep; j++) chosen[j] = order[j];
    chosen.sort();
    return chosen;
  });
}

/**
 * Compresses dense B with a caller's 0/1 mask (K×N, row-major, e.g. from SparseGPT or Wanda), after checking
 * that the mask is N:M: every full window keeps exactly `keep` rows, and all columns of a vector keep the same rows.
 * @throws {MaskError} naming the first window and vector that break the pattern.
 */
export function compressWithMask(
  b: DenseMatrix,
  mask: ArrayLike<number | boolean>,
  pattern: NMPattern,
): CompressedNM {
  assertDenseMatrix(b, 'B');
  compressedLayout(b.rows, b.cols, pattern);
  if (mask.length !== b.rows * b.cols) {
    throw new ShapeError(
      `The mask has ${mask.length} entries but B is ${b.rows}×${b.cols} (${b.rows * b.cols}).`,
      'pass a row-major 0/1 mask with the shape of B.',
    );
  }
  const { keep, group, vectorLength } = pattern;
  const chosen = new Int32Array(keep);
  return buildCompressed(b, pattern, ({ window, vector, r0, realRows, c0, c1 }) => {
    const where = `window ${window} (rows ${r0}–${r0 + realRows - 1}), vector ${vector} (columns ${c0}–${c1 - 1})`;
    let count = 0;
    for (let i = 0; i < realRows; i++) {
      const first = maskBit(mask, (r0 + i) * b.cols + c0, where);
      for (let c = c0 + 1; c < c1; c++) {
        if (maskBit(mask, (r0 + i) * b.cols + c, where) !== first) {
          throw new MaskError(
            `Mask is not ${describePattern(pattern)}: in ${where}, row ${r0 + i} is kept in column ${first ? c0 : c} ` +
              `but pruned in column ${first ? c : c0}; all ${vectorLength} columns of a vector must keep the same rows.`,
            window,
            vector,
            'prune with pruneByMagnitude(), or make the mask vector-wise.',
          );
        }
      }
      if (first) {
        if (count === keep) {
          throw new MaskError(
            `Mask is not ${describePattern(pattern)}: ${where} keeps more than ${keep} of its ${realRows} rows.`,
            window,
            vector,
            `keep exactly ${keep} rows in every window of ${group}.`,
          );
        }
        chosen[count++] = i;
      }
    }
    const expected = Math.min(keep, realRows);
    if (count !== expected) {
      throw new MaskError(
        `Mask is not ${describePattern(pattern)}: ${where} keeps ${count} of its ${realRows} rows; it must keep ${expected}.`,
        window,
        vector,
        `keep exactly ${keep} rows in every window of ${group}.`,
      );
    }
    // A short last window keeps all its real rows; the rest of its selection points into zero padding.
    for (let pad = realRows; count < keep; pad++) chosen[count++] = pad;
    return chosen;
  });
}

/**
 * Compresses weights that are already pruned to `pattern`, their pruned entries zero (e.g. exported from a pruned
 * PyTorch or ONNX model; transpose an out × in weight first with {@link transposeDense}). Lossless: every nonzero of B
 * is kept. In each (window, vector) the rows with a nonzero (or NaN) in any of the vector's columns are kept, and a
 * window with fewer keeps all-zero rows (lowest offsets first) to make up `keep`.
 * @throws {MaskError} naming the first window and vector with more than `keep` nonzero rows (the weights are not
 * pruned to this pattern: check `keep:group` and `V`, or prune with {@link pruneByMagnitude}).
 * @example const sparse = compressPruned(transposeDense(linearWeight), nmPattern(2, 4)); // element-wise 2:4
 */
export function compressPruned(b: DenseMatrix, pattern: NMPattern): CompressedNM {
  assertDenseMatrix(b, 'B');
  compressedLayout(b.rows, b.cols, pattern);
  const { keep, group } = pattern;
  const chosen = new Int32Array(keep);
  const nonzero = new Uint8Array(group);
  return buildCompressed(b, pattern, ({ window, vector, r0, realRows, c0, c1 }) => {
    let count = 0;
    nonzero.fill(0);
    for (let i = 0; i < realRows; i++) {
      const rowBase = (r0 + i) * b.cols;
      for (let c = c0; c < c1; c++) {
        if (b.data[rowBase + c] !== 0) {
          nonzero[i] = 1;
          count++;
          break;
        }
      }
    }
    if (count > keep) {
      const rows: number[] = [];
      for (let i = 0; i < realRows; i++) if (nonzero[i]) rows.push(r0 + i);
      throw new MaskError(
        `B is not pruned to ${describePattern(pattern)}: window ${window} (rows ${r0}–${r0 + realRows - 1}), vector ${vector} ` +
          `(columns ${c0}–${c1 - 1}) has nonzeros in ${count} rows (${rows.join(', ')}); the pattern keeps ${keep}.`,
        window,
        vector,
        `check keep:group and V (element-wise N:M is V = 1; an out × in weight needs transposeDense first), or prune with pruneByMagnitude(), which drops the smallest rows.`,
      );
    }
    // The nonzero rows, then all-zero rows (real ones, then K padding: nonzero is 0 past realRows) up to `keep`.
    let j = 0;
    for (let i = 0; i < group && j < keep; i++) if (nonzero[i]) chosen[j++] = i;
    for (let i = 0; i < group && j < keep; i++) if (!nonzero[i]) chosen[j++] = i;
    chosen.sort();
    return chosen;
  });
}

/**
 * The transpose of a dense matrix (cols × rows), in cache-sized tiles. Weights stored out × in (PyTorch `nn.Linear`,
 * ONNX `Gemm` with `transB = 1`, safetensors of those) are N×K; the format's B is K×N.
 * @example const b = transposeDense(denseMatrix(outFeatures, inFeatures, weight)); // K×N
 */
export function transposeDense(m: DenseMatrix): DenseMatrix {
  assertDenseMatrix(m, 'matrix');
  const { rows, cols, data } = m;
  const out = new Float32Array(rows * cols);
  const tile = 32;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(cols, c0 + tile);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = data[r * cols + c];
    }
  }
  return { rows: cols, cols: rows, data: out };
}

/**
 * The 0/1 mask (K×N) of the rows a compressed matrix keeps: the inverse of {@link compressWithMask}.
 */
export function maskOf(matrix: CompressedNM): Uint8Array {
  const layout = compressedLayout(matrix.rows, matrix.cols, matrix.pattern);
  const { rows, cols } = matrix;
  const { keep, group, vectorLength } = matrix.pattern;
  const mask = new Uint8Array(rows * cols);
  for (let w = 0; w < layout.keptRows; w++) {
    for (let vector = 0; vector < layout.vectors; vector++) {
      const row = Math.floor(w / keep) * group + matrix.indices[w * layout.vectors + vector];
      if (row >= rows) continue;
      const c1 = Math.min(cols, (vector + 1) * vectorLength);
      mask.fill(1, row * cols + vector * vectorLength, row * cols + c1);
    }
  }
  return mask;
}

function maskBit(mask: ArrayLike<number | boolean>, i: number, where: string): boolean {
  const v = mask[i];
  if (v === 1 || v === true) return true;
  if (v === 0 || v === false) return false;
  throw new ShapeError(`Mask entry ${i} (in ${where}) is ${String(v)}; a mask holds only 0/1 or booleans.`);
}

/** One (window, vector) of B: its rows `r0 … r0 + realRows − 1` (fewer than `group` in a short last window), columns `c0 … c1 − 1`. */
interface WindowBlock {
  readonly window: number;
  readonly vector: number;
  readonly r0: number;
  readonly realRows: number;
  readonly c0: number;
  readonly c1: number;
}

/** Gathers values for a selection chosen per (window, vector); `select` returns ascending in-window offsets. */
function buildCompressed(b: DenseMatrix, pattern: NMPattern, select: (block: WindowBlock) => Int32Array): CompressedNM {
  const layout = compressedLayout(b.rows, b.cols, pattern);
  const { keep, group, vectorLength } = pattern;
  const values = new Float32Array(layout.valuesLength);
  const indices = new Uint8Array(layout.indicesLength);
  for (let window = 0; window < layout.windows; window++) {
    const r0 = window * group;
    const realRows = Math.min(group, b.rows - r0);
    for (let vector = 0; vector < layout.vectors; vector++) {
      const c0 = vector * vectorLength;
      const c1 = Math.min(b.cols, c0 + vectorLength);
      const offsets = select({ window, vector, r0, realRows, c0, c1 });
      for (let j = 0; j < keep; j++) {
        const w = window * keep + j;
        indices[w * layout.vectors + vector] = offsets[j];
        const row = r0 + offsets[j];
        if (row >= b.rows) continue; // padding: values stay 0
        values.set(b.data.subarray(row * b.cols + c0, row * b.cols + c1), w * b.cols + c0);
      }
    }
  }
  return { rows: b.rows, cols: b.cols, pattern: { ...pattern }, values, indices };
}
