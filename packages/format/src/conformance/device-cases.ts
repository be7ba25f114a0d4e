import type { DeviceMatrix, MatmulOptions, NMBackend, PreparedWeights } from '../backend.js';
import type { CompressedNM } from '../compressed.js';
import type { DenseMatrix } from '../dense.js';
import { describePattern, type NMPattern } from '../pattern.js';
import { randomCompressed, randomDense } from '../random.js';
import { referenceSpmm } from '../reference.js';
import type { ConformanceCase } from './cases.js';
import { expectClose, expectCode } from './expect.js';

/**
 * Products that keep A and C on the device ({@link NMBackend.upload}, {@link NMBackend.matmulDevice}): the same
 * answers as the host path, buffers that outlive nothing they should not, and the same typed errors.
 */
export function deviceCases(): ConformanceCase[] {
  const make = (id: string, run: (backend: NMBackend) => Promise<void>): ConformanceCase => ({ id: `device/${id}`, group: 'device', run });
  return [
    make('upload-read-round-trip', async (backend) => {
      const a = randomDense(5, 7, 51);
      a.data[3] = Number.NaN;
      a.data[4] = Number.NEGATIVE_INFINITY;
      a.data[5] = -0;
      const expected = a.data.slice();
      const x = await backend.upload(a);
      a.data.fill(9); // the device copy was taken at upload
      try {
        if (x.kind !== 'device-matrix' || x.backend !== backend.name || x.rows !== 5 || x.cols !== 7) {
          throw new Error(`upload() returned ${x.kind} ${x.rows}×${x.cols} on "${x.backend}"; expected a device-matrix 5×7 on "${backend.name}"`);
        }
        if (x.bytes < 5 * 7 * 4) throw new Error(`a 5×7 device matrix reports ${x.bytes} bytes`);
        const first = await x.read();
        first.data.fill(7); // read() hands out a copy
        const second = await x.read();
        expectSameBits(second, expected, 'read() after upload');
      } finally {
        x.dispose();
      }
      if (!x.disposed) throw new Error('dispose() did not mark the device matrix disposed');
      x.dispose(); // idempotent
      await expectCode('DISPOSED', 'read() after dispose()', () => x.read());
    }),
    make('chain-of-layers', async (backend) => {
      // Three layers, each read back and checked against the reference on the previous layer's own output.
      const layers: [number, number, NMPattern][] = [
        [96, 70, { keep: 8, group: 32, vectorLength: 32 }],
        [70, 45, { keep: 2, group: 4, vectorLength: 1 }],
        [45, 33, { keep: 3, group: 7, vectorLength: 4 }],
      ];
      let host = randomDense(37, 96, 52);
      let x = await backend.upload(host);
      try {
        for (const [i, [k, n, pattern]] of layers.entries()) {
          const sparse = randomCompressed(k, n, pattern, 53 + i);
          const y = await withPrepared(backend, sparse, (w) => backend.matmulDevice(x, w));
          x.dispose();
          x = y;
          const c = await y.read();
          if (y.rows !== host.rows || y.cols !== n) throw new Error(`layer ${i}: C is ${y.rows}×${y.cols}; expected ${host.rows}×${n}`);
          expectClose(c, referenceSpmm(host, sparse), k, `layer ${i} (${describePattern(pattern)})`);
          host = c;
        }
      } finally {
        x.dispose();
      }
    }),
    make('every-batch-size-path', async (backend) => {
      // Decode sizes, one tile and past it, for a fast pattern and an element-wise one (widened copies above 16 rows).
      const runs: [number, number, number, NMPattern][] = [
        [1, 96, 512, { keep: 8, group: 32, vectorLength: 32 }],
        [16, 96, 512, { keep: 8, group: 32, vectorLength: 32 }],
        [17, 96, 512, { keep: 8, group: 32, vectorLength: 32 }],
        [130, 160, 256, { keep: 16, group: 32, vectorLength: 32 }],
        [40, 64, 128, { keep: 2, group: 4, vectorLength: 1 }],
      ];
      for (const [i, [m, n, k, pattern]] of runs.entries()) {
        const a = randomDense(m, k, 60 + i);
        const sparse = randomCompressed(k, n, pattern, 70 + i);
        const c = await onDevice(backend, a, sparse);
        expectClose(c, referenceSpmm(a, sparse), k, `${m}×${n}×${k} ${describePattern(pattern)} on the device`);
        expectClose(await withPrepared(backend, sparse, (w) => backend.matmul(a, w)), referenceSpmm(a, sparse), k, 'the host path');
      }
    }),
    make('pruned-nan-per-column-at-batch-size', async (backend) => {
      // The device path must keep the rule that pruned rows contribute nothing, widened copies or not.
      const sparse = randomCompressed(64, 40, { keep: 2, group: 4, vectorLength: 1 }, 81);
      const a = randomDense(40, 64, 82);
      a.data[3 * 64 + 9] = Number.NaN;
      a.data[3 * 64 + 22] = Number.POSITIVE_INFINITY;
      expectClose(await onDevice(backend, a, sparse), referenceSpmm(a, sparse), 64, 'C on the device');
    }),
    make('dispose-while-running', async (backend) => {
      // Disposing A right after starting a call must not pull its buffer from under the call: a fast pattern, and
      // element-wise weights with a NaN in A, where fast backends try a widened copy first and then rerun on the
      // original weights (A read again after the first attempt).
      const runs: [CompressedNM, DenseMatrix][] = [
        [randomCompressed(256, 64, { keep: 4, group: 32, vectorLength: 32 }, 83), randomDense(33, 256, 84)],
        [randomCompressed(64, 40, { keep: 2, group: 4, vectorLength: 1 }, 87), randomDense(40, 64, 88)],
      ];
      runs[1][1].data[5 * 64 + 17] = Number.NaN;
      for (const [sparse, a] of runs) {
        await withPrepared(backend, sparse, async (w) => {
          const x = await backend.upload(a);
          const pending = backend.matmulDevice(x, w);
          x.dispose();
          const y = await pending;
          try {
            expectClose(await y.read(), referenceSpmm(a, sparse), sparse.rows, `C (${describePattern(sparse.pattern)}) after A was disposed mid-call`);
          } finally {
            y.dispose();
          }
        });
      }
    }),
    make('promise-all', async (backend) => {
      const sparse = randomCompressed(128, 96, { keep: 2, group: 4, vectorLength: 32 }, 85);
      const inputs = Array.from({ length: 6 }, (_, i) => randomDense(2 + 7 * i, 128, 86 + i));
      await withPrepared(backend, sparse, async (w) => {
        const xs = await Promise.all(inputs.map((a) => backend.upload(a)));
        try {
          const ys = await Promise.all(xs.map((x) => backend.matmulDevice(x, w)));
          const cs = await Promise.all(ys.map((y) => y.read()));
          for (const y of ys) y.dispose();
          for (const [i, c] of cs.entries()) expectClose(c, referenceSpmm(inputs[i], sparse), 128, `C[${i}]`);
        } finally {
          for (const x of xs) x.dispose();
        }
      });
    }),
    make('bad-input', async (backend) => {
      const pattern = { keep: 2, group: 4, vectorLength: 4 };
      await withPrepared(backend, randomCompressed(16, 8, pattern, 91), async (w) => {
        const host = randomDense(3, 16, 92);
        await expectCode('SHAPE', 'a host DenseMatrix to matmulDevice()', () => backend.matmulDevice(host as unknown as DeviceMatrix, w), 'upload');
        await expectCode('SHAPE', 'A data too short to upload()', () => backend.upload({ rows: 3, cols: 16, data: new Float32Array(47) }));
        const narrow = await backend.upload(randomDense(3, 15, 93));
        try {
          await expectCode('SHAPE', 'A 3×15 on the device · B 16×8', () => backend.matmulDevice(narrow, w), '3×15');
        } finally {
          narrow.dispose();
        }
        const x = await backend.upload(host);
        try {
          const foreign = { kind: x.kind, backend: `${backend.name}-other`, rows: x.rows, cols: x.cols, bytes: x.bytes, disposed: false, read: () => x.read(), dispose() {} };
          await expectCode('SHAPE', 'a device matrix of another backend', () => backend.matmulDevice(foreign, w), `${backend.name}-other`);
        } finally {
          x.dispose();
        }
        await expectCode('DISPOSED', 'a disposed device matrix', () => backend.matmulDevice(x, w));
      });
      const w = await backend.prepare(randomCompressed(16, 8, pattern, 94));
      w.dispose();
      const x = await backend.upload(randomDense(2, 16, 95));
      try {
        await expectCode('DISPOSED', 'disposed weights with A on the device', () => backend.matmulDevice(x, w));
      } finally {
        x.dispose();
      }
    }),
  ];
}

/** Prepares `sparse`, runs `body` on the weights, and disposes them. */
async function withPrepared<T>(backend: NMBackend, sparse: CompressedNM, body: (weights: PreparedWeights) => Promise<T>): Promise<T> {
  const weights = await backend.prepare(sparse);
  try {
    return await body(weights);
  } finally {
    weights.dispose();
  }
}

/** C = A·B through upload, matmulDevice and read, every device matrix disposed. */
async function onDevice(backend: NMBackend, a: DenseMatrix, sparse: CompressedNM): Promise<DenseMatrix> {
  const x = await backend.upload(a);
  try {
    return await withPrepared(backend, sparse, (w) => readProduct(backend, x, w));
  } finally {
    x.dispose();
  }
}

/** matmulDevice(x, w, options), read back to the host; the product's device matrix is disposed (x is not). */
export async function readProduct(backend: NMBackend, x: DeviceMatrix, w: PreparedWeights, options?: MatmulOptions): Promise<DenseMatrix> {
  const y = await backend.matmulDevice(x, w, options);
  try {
    return await y.read();
  } finally {
    y.dispose();
  }
}

function expectSameBits(got: DenseMatrix, expected: Float32Array, what: string): void {
  if (got.data.length !== expected.length) throw new Error(`${what}: ${got.data.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(got.data[i], expected[i])) throw new Error(`${what}: value ${i} is ${got.data[i]}, expected ${expected[i]}`);
  }
}
