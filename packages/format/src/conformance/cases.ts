import type { NMBackend, PreparedWeights } from '../backend.js';
import { type CompressedNM, decompress } from '../compressed.js';
import { compressWithMask } from '../prune.js';
import type { DenseMatrix } from '../dense.js';
import { describePattern, type NMPattern } from '../pattern.js';
import { randomCompressed, randomDense } from '../random.js';
import { referenceDense, referenceSpmm } from '../reference.js';
import { deviceCases } from './device-cases.js';
import { expectClose, expectCode, expectExactly } from './expect.js';

/**
 * The conformance cases, as data: each runs against any backend and throws on failure. Runners (vitest in
 * Node, a page in Chromium) iterate over them; nothing here depends on a test framework.
 */
export interface ConformanceCase {
  /** Stable id, used in reports and in a backend's list of known gaps. */
  readonly id: string;
  readonly group:
    | 'hand-checked'
    | 'patterns'
    | 'ragged'
    | 'long-windows'
    | 'decode'
    | 'special-values'
    | 'bad-input'
    | 'dense'
    | 'concurrency'
    | 'device';
  run(backend: NMBackend): Promise<void>;
}

/** `full` runs everything; `quick` keeps shapes small for slow software drivers and browsers. */
export type ConformanceScale = 'full' | 'quick';

/** Patterns the suite covers: the paper's four, the element-wise classics, odd ones and keep = group. */
export const CONFORMANCE_PATTERNS: readonly (readonly [number, number])[] = [
  [1, 2], [2, 4], [4, 8], [16, 32], [12, 32], [8, 32], [4, 32], [1, 32], [3, 7], [5, 5],
];
/** Vector lengths every pattern is run with: element-wise, narrower than a warp, and one to four warps wide. */
export const CONFORMANCE_VECTOR_LENGTHS: readonly number[] = [1, 4, 32, 64, 128];

/** Builds the case list. */
export function conformanceCases(scale: ConformanceScale = 'full'): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const quick = scale === 'quick';

  cases.push(
    {
      id: 'hand-checked/2:4-elementwise',
      group: 'hand-checked',
      async run(backend) {
        // B keeps rows {0,2} in column 0 and {1,3} in column 1: C = [1·1 + 3·2, 2·3 + 4·4] = [7, 22].
        const b = { rows: 4, cols: 2, data: Float32Array.of(1, 0, 0, 3, 2, 0, 0, 4) };
        const sparse = compressWithMask(b, [1, 0, 0, 1, 1, 0, 0, 1], { keep: 2, group: 4, vectorLength: 1 });
        const c = await multiply(backend, { rows: 1, cols: 4, data: Float32Array.of(1, 2, 3, 4) }, sparse);
        expectExactly(c, [7, 22], 'C');
      },
    },
    {
      id: 'hand-checked/1:2-vector-2',
      group: 'hand-checked',
      async run(backend) {
        // Both columns keep row 1 of window 0 and row 2 of window 1:
        // C = [2·[1,2] + 3·[3,4], 6·[1,2] + 7·[3,4]] = [[11, 16], [27, 40]].
        const b = { rows: 4, cols: 2, data: Float32Array.of(0, 0, 1, 2, 3, 4, 0, 0) };
        const sparse = compressWithMask(b, [0, 0, 1, 1, 1, 1, 0, 0], { keep: 1, group: 2, vectorLength: 2 });
        const a = { rows: 2, cols: 4, data: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8) };
        expectExactly(await multiply(backend, a, sparse), [11, 16, 27, 40], 'C');
      },
    },
  );

  let seed = 100;
  for (const [keep, group] of CONFORMANCE_PATTERNS) {
    for (const vectorLength of CONFORMANCE_VECTOR_LENGTHS) {
      const s = seed++;
      const m = quick ? 9 : 37;
      const n = Math.min(quick ? 2 : 3, 3) * vectorLength + (vectorLength > 1 ? 5 : 3);
      const k = group * (quick ? 3 : 6) + (group > 1 ? 1 : 0);
      cases.push(randomCase(`patterns/${keep}:${group}/V=${vectorLength}`, 'patterns', { m, n, k }, { keep, group, vectorLength }, s));
    }
  }

  const ragged: [string, number, number, number, NMPattern][] = [
    ['M=1', 1, 96, 256, { keep: 8, group: 32, vectorLength: 32 }],
    ['K=group', 20, 70, 32, { keep: 16, group: 32, vectorLength: 32 }],
    ['K<group', 5, 33, 19, { keep: 4, group: 32, vectorLength: 32 }],
    ['K-short-last-window', 7, 40, 66, { keep: 8, group: 32, vectorLength: 4 }],
    ['N<V', 13, 17, 64, { keep: 2, group: 4, vectorLength: 32 }],
    ['N=1', 11, 1, 100, { keep: 2, group: 4, vectorLength: 1 }],
    ['odd-315x628x2179', quick ? 31 : 315, quick ? 62 : 628, quick ? 217 : 2179, { keep: 8, group: 32, vectorLength: 32 }],
    ['odd-2179x315x628', quick ? 65 : 2179, quick ? 31 : 315, 628, { keep: 4, group: 8, vectorLength: 1 }],
    ['odd-628x2179x315-3:7', quick ? 62 : 628, quick ? 217 : 2179, 315, { keep: 3, group: 7, vectorLength: 64 }],
    ['tile-plus-one', 65, 129, 97, { keep: 12, group: 32, vectorLength: 32 }],
  ];
  for (const [name, m, n, k, pattern] of ragged) {
    cases.push(randomCase(`ragged/${name}`, 'ragged', { m, n, k }, pattern, seed++));
  }

  // Windows longer than a tile stages at once: backends cut them across stages (WebGPU by kept rank, in parts of 4
  // to 14 kept rows, for M ≤ 16 up to twice the decode tile's rows; CUDA through its row lists). 100:256 at M = 9
  // runs decode parts (fifths, in 12-row tiles); 17:64 has no such part (whole windows).
  const longWindows: [string, number, number, number, NMPattern][] = [
    ['32:64/V=32', 37, 101, 64 * 5 + 3, { keep: 32, group: 64, vectorLength: 32 }],
    ['24:96/V=4', 37, 45, 96 * 3 + 17, { keep: 24, group: 96, vectorLength: 4 }],
    ['64:128/V=64', 20, 133, 128 * 2 + 50, { keep: 64, group: 128, vectorLength: 64 }],
    ['100:256/V=32', 9, 70, 256 * 2 + 1, { keep: 100, group: 256, vectorLength: 32 }],
    ['17:64/V=32', 30, 70, 64 * 3 - 5, { keep: 17, group: 64, vectorLength: 32 }],
  ];
  for (const [name, m, n, k, pattern] of longWindows) {
    cases.push(randomCase(`long-windows/${name}`, 'long-windows', { m, n, k }, pattern, seed++));
  }

  for (const m of [1, 2, 8, 16, 17]) {
    const k = quick ? 512 : 2048;
    cases.push(randomCase(`decode/M=${m}`, 'decode', { m, n: quick ? 96 : 320, k }, { keep: 8, group: 32, vectorLength: 32 }, seed++));
  }

  cases.push(...specialValueCases(), ...badInputCases(), ...deviceCases());

  cases.push({
    id: 'dense/baseline-ragged',
    group: 'dense',
    async run(backend) {
      if (!backend.prepareDense) return;
      const a = randomDense(33, 75, 7);
      const b = randomDense(75, 41, 8);
      const weights = await backend.prepareDense(b);
      try {
        const c = await backend.matmul(a, weights);
        expectClose(c, referenceDense(a, b), b.rows, 'dense C');
      } finally {
        weights.dispose();
      }
    },
  });

  cases.push({
    id: 'concurrency/promise-all',
    group: 'concurrency',
    async run(backend) {
      const pattern = { keep: 2, group: 4, vectorLength: 32 };
      const sparse = randomCompressed(128, 96, pattern, 9);
      const weights = await backend.prepare(sparse);
      try {
        const inputs = Array.from({ length: 8 }, (_, i) => randomDense(3 + i, 128, 20 + i));
        const results = await Promise.all(inputs.map((a) => backend.matmul(a, weights)));
        for (const [i, c] of results.entries()) expectClose(c, referenceSpmm(inputs[i], sparse), sparse.rows, `C[${i}]`);
      } finally {
        weights.dispose();
      }
    },
  });
  cases.push({
    id: 'concurrency/dispose-weights-while-running',
    group: 'concurrency',
    async run(backend) {
      // dispose() right after starting a call must not pull the weights from under it (a fast pattern and an
      // element-wise one, which fast backends run on a widened copy); calls after it get DisposedError.
      const layers = [randomCompressed(256, 96, { keep: 4, group: 32, vectorLength: 32 }, 11), randomCompressed(128, 64, { keep: 2, group: 4, vectorLength: 1 }, 12)];
      for (const sparse of layers) {
        const a = randomDense(40, sparse.rows, 13);
        const weights = await backend.prepare(sparse);
        const pending = backend.matmul(a, weights);
        weights.dispose();
        expectClose(await pending, referenceSpmm(a, sparse), sparse.rows, `C (${describePattern(sparse.pattern)}) with its weights disposed mid-call`);
        await expectCode('DISPOSED', 'matmul() after dispose()', () => backend.matmul(a, weights));
      }
    },
  });
  return cases;
}

function randomCase(
  id: string,
  group: ConformanceCase['group'],
  shape: { m: number; n: number; k: number },
  pattern: NMPattern,
  seed: number,
): ConformanceCase {
  return {
    id,
    group,
    async run(backend) {
      const check = backend.check(shape, pattern);
      if (!check.ok) throw new Error(`${backend.name} refused ${id}: ${check.reason}`);
      const a = randomDense(shape.m, shape.k, seed);
      const sparse = randomCompressed(shape.k, shape.n, pattern, seed + 1);
      const c = await multiply(backend, a, sparse);
      expectClose(c, referenceSpmm(a, sparse), shape.k, `C (${shape.m}×${shape.n}×${shape.k}, ${describePattern(pattern)})`);
      // The same product through the decompressed dense weights (finite inputs: the two must agree).
      expectClose(c, referenceDense(a, decompress(sparse)), shape.k, 'C vs dense(decompress(B))');
    },
  };
}

function specialValueCases(): ConformanceCase[] {
  const pattern = { keep: 2, group: 4, vectorLength: 4 };
  return [
    {
      id: 'special-values/nan-inf-propagate',
      group: 'special-values',
      async run(backend) {
        const sparse = randomCompressed(16, 8, pattern, 31);
        const a = randomDense(4, 16, 32);
        const firstKept = sparse.indices[0]; // kept row of window 0 for vector 0 (columns 0–3)
        a.data[0 * 16 + firstKept] = Number.NaN; // meets kept weights: row 0 of C, vector 0 becomes NaN
        a.data[1 * 16 + firstKept] = Number.POSITIVE_INFINITY;
        sparse.values[2 * 8 + 5] = Number.POSITIVE_INFINITY; // kept value → ±Inf or NaN in column 5
        const c = await multiply(backend, a, sparse);
        expectClose(c, referenceSpmm(a, sparse), 16, 'C with NaN/Inf');
        if (!Number.isNaN(c.data[0])) throw new Error(`NaN in A did not propagate: C[0][0] = ${c.data[0]}`);
      },
    },
    {
      id: 'special-values/pruned-rows-contribute-nothing',
      group: 'special-values',
      async run(backend) {
        const sparse = randomCompressed(16, 4, { keep: 1, group: 4, vectorLength: 4 }, 33);
        const a = randomDense(2, 16, 34);
        // Poison every column of A whose row of B is pruned for the only vector: C must stay finite.
        for (let window = 0; window < 4; window++) {
          for (let offset = 0; offset < 4; offset++) {
            if (offset !== sparse.indices[window]) {
              a.data[window * 4 + offset] = Number.NaN;
              a.data[16 + window * 4 + offset] = Number.POSITIVE_INFINITY;
            }
          }
        }
        const c = await multiply(backend, a, sparse);
        expectClose(c, referenceSpmm(a, sparse), 16, 'C');
        if (!Array.from(c.data).every(Number.isFinite)) throw new Error(`pruned NaN/Inf leaked into C: ${Array.from(c.data)}`);
      },
    },
    {
      // Above decode sizes, with one index per column: a backend may run such weights through another layout (the
      // CUDA backend's widened copy stores pruned rows as zeros), and 0 · NaN must still not reach C.
      id: 'special-values/pruned-nan-per-column-at-batch-size',
      group: 'special-values',
      async run(backend) {
        const sparse = randomCompressed(64, 40, { keep: 2, group: 4, vectorLength: 1 }, 35);
        const a = randomDense(40, 64, 36);
        // Row 3 of A is NaN at k = 9 and +Inf at k = 22: columns that pruned those rows must stay finite.
        a.data[3 * 64 + 9] = Number.NaN;
        a.data[3 * 64 + 22] = Number.POSITIVE_INFINITY;
        // The reference is finite wherever a column pruned both rows: a leak shows as a mismatch there.
        expectClose(await multiply(backend, a, sparse), referenceSpmm(a, sparse), 64, 'C');
      },
    },
  ];
}

function badInputCases(): ConformanceCase[] {
  const pattern = { keep: 2, group: 4, vectorLength: 4 };
  const withWeights = async (backend: NMBackend, body: (weights: PreparedWeights) => Promise<void>) => {
    const weights = await backend.prepare(randomCompressed(16, 8, pattern, 41));
    try {
      await body(weights);
    } finally {
      weights.dispose();
    }
  };
  const make = (id: string, run: (backend: NMBackend) => Promise<void>): ConformanceCase => ({
    id: `bad-input/${id}`,
    group: 'bad-input',
    run,
  });
  return [
    make('shape-mismatch', (backend) =>
      withWeights(backend, (w) => expectCode('SHAPE', 'A 3×15 · B 16×8', () => backend.matmul(randomDense(3, 15, 1), w), '3×15')),
    ),
    make('wrong-a-length', (backend) =>
      withWeights(backend, (w) =>
        expectCode('SHAPE', 'A data too short', () => backend.matmul({ rows: 3, cols: 16, data: new Float32Array(47) }, w)),
      ),
    ),
    make('corrupt-indices', async (backend) => {
      const sparse = randomCompressed(16, 8, pattern, 42);
      sparse.indices[1] = 9; // offset outside the window of 4
      await expectCode('FORMAT', 'index out of its window', () => backend.prepare(sparse), 'window');
    }),
    make('unordered-indices', async (backend) => {
      const sparse = randomCompressed(16, 8, pattern, 43);
      const vectors = 2;
      sparse.indices[0] = 3;
      sparse.indices[vectors] = 1; // second kept offset of window 0 below the first
      await expectCode('FORMAT', 'descending indices', () => backend.prepare(sparse));
    }),
    make('mismatched-pattern', async (backend) => {
      const sparse = randomCompressed(16, 8, pattern, 44);
      await expectCode('FORMAT', 'arrays of 2:4 labelled 4:8', () =>
        backend.prepare({ ...sparse, pattern: { keep: 4, group: 8, vectorLength: 4 } }),
      );
    }),
    make('wrong-values-length', async (backend) => {
      const sparse = randomCompressed(16, 8, pattern, 45);
      await expectCode('FORMAT', 'values too short', () => backend.prepare({ ...sparse, values: sparse.values.subarray(1) }));
    }),
    make('disposed-weights', (backend) =>
      withWeights(backend, async (w) => {
        w.dispose();
        await expectCode('DISPOSED', 'use after dispose', () => backend.matmul(randomDense(2, 16, 1), w));
      }),
    ),
    make('foreign-weights', (backend) =>
      withWeights(backend, async (w) => {
        const foreign = { ...w, backend: `${backend.name}-other`, disposed: false, dispose() {} };
        await expectCode('SHAPE', 'weights of another backend', () => backend.matmul(randomDense(2, 16, 1), foreign));
      }),
    ),
  ];
}

async function multiply(backend: NMBackend, a: DenseMatrix, sparse: CompressedNM): Promise<DenseMatrix> {
  const weights = await backend.prepare(sparse);
  try {
    const c = await backend.matmul(a, weights);
    if (c.rows !== a.rows || c.cols !== sparse.cols || c.data.length !== a.rows * sparse.cols) {
      throw new Error(`C is ${c.rows}×${c.cols} (${c.data.length} values); expected ${a.rows}×${sparse.cols}`);
    }
    return c;
  } finally {
    weights.dispose();
  }
}
