import { type CompressedNM, compressedLayout, type DenseMatrix, type NMPattern } from '@nmkit/format';

/**
 * A xorshift32 stream of uniform floats in [-1, 1), inlined in tight loops: about 3× faster than calling a
 * closure per element, which matters when a benchmark builds 4096×22016 operands many times.
 */
function fill(out: Float32Array, seed: number): void {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) * 4.656612873077393e-10 - 1; // 2/2³², then shift to [-1, 1)
  }
}

/**
 * A rows×cols matrix of uniform values in [-1, 1) from `seed`; the first r rows do not depend on `rows`, so the
 * operand of a smaller M is a prefix of a larger one.
 * @example const a = benchDense(256, 4096, 7);
 */
export function benchDense(rows: number, cols: number, seed: number): DenseMatrix {
  const data = new Float32Array(rows * cols);
  fill(data, seed);
  return { rows, cols, data };
}

/**
 * Random compressed N:M weights in the format of `@nmkit/format` (a uniformly random kept set per window and
 * vector, values uniform in [-1, 1), zeros wherever an index points into the K padding). Equivalent in
 * distribution to `randomCompressed`, built several times faster for benchmark-sized matrices.
 * @example const b = benchCompressed(4096, 11008, nmPattern(8, 32, 32), 3); validateCompressed(b);
 */
export function benchCompressed(rows: number, cols: number, pattern: NMPattern, seed: number): CompressedNM {
  const layout = compressedLayout(rows, cols, pattern);
  const { keep, group } = pattern;
  const values = new Float32Array(layout.valuesLength);
  const indices = new Uint8Array(layout.indicesLength);
  fill(values, seed);
  let s = (seed * 2654435761 + 1) >>> 0 || 1;
  const pool = new Int32Array(Math.max(group, keep));
  const chosen = new Int32Array(keep);
  for (let window = 0; window < layout.windows; window++) {
    const realRows = Math.min(group, rows - window * group);
    // A window shorter than `keep` keeps all its real rows plus padding rows (whose values are zeroed below).
    const candidates = Math.max(realRows, keep);
    for (let vector = 0; vector < layout.vectors; vector++) {
      for (let i = 0; i < candidates; i++) pool[i] = i;
      for (let j = 0; j < keep; j++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const pick = j + ((s >>> 0) % (candidates - j));
        const t = pool[j];
        pool[j] = pool[pick];
        pool[pick] = t;
        // Insertion into the ascending list of chosen offsets.
        let at = j;
        while (at > 0 && chosen[at - 1] > pool[j]) {
          chosen[at] = chosen[at - 1];
          at--;
        }
        chosen[at] = pool[j];
      }
      for (let j = 0; j < keep; j++) indices[(window * keep + j) * layout.vectors + vector] = chosen[j];
    }
    if (realRows < group) {
      for (let j = 0; j < keep; j++) {
        const w = window * keep + j;
        for (let vector = 0; vector < layout.vectors; vector++) {
          if (indices[w * layout.vectors + vector] < realRows) continue;
          const c1 = Math.min(cols, (vector + 1) * pattern.vectorLength);
          for (let c = vector * pattern.vectorLength; c < c1; c++) values[w * cols + c] = 0;
        }
      }
    }
  }
  return { rows, cols, pattern: { ...pattern }, values, indices };
}
