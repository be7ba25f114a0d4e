import { describe, expect, it } from 'vitest';
import {
  assertDenseMatrix,
  assertRunnable,
  assertRunnableOnDevice,
  type BackendCapabilities,
  type CompressedNM,
  DEFAULT_DEVICE_LIMITS,
  type DenseMatrix,
  type DeviceMatrix,
  HostDeviceMatrix,
  decompress,
  type NMBackend,
  type PreparedWeights,
  planTiling,
  referenceDense,
  referenceSpmm,
  summarizeTimings,
  validateCompressed,
} from '../src/index.js';
import { conformanceCases } from '../src/conformance/index.js';

/**
 * The suite must be able to fail: these backends each break one rule on purpose, and the suite has to notice.
 * (`honest` is the control: it must pass everything.)
 */
type Flaw =
  | 'honest'
  | 'dense-math'
  | 'drops-last-column'
  | 'no-validation'
  | 'sloppy-rounding'
  | 'flushes-inf'
  | 'flips-inf'
  | 'device-aliases-host'
  | 'device-no-validation'
  | 'device-reads-a-late';

const capabilities: BackendCapabilities = {
  dtypes: ['float32'],
  maxGroup: 256,
  vectorLengths: 'any',
  fastPaths: 'none',
  limits: { maxBufferBytes: 2 ** 31, maxDimension: 2 ** 31 },
  timing: 'host',
};

function flawedBackend(flaw: Flaw): NMBackend {
  const name = `test-${flaw}`;
  return {
    name,
    device: 'test',
    capabilities,
    check: (shape, pattern) => ({ ok: true, plan: planTiling(shape, pattern, DEFAULT_DEVICE_LIMITS) }),
    async prepare(weights: CompressedNM) {
      if (flaw !== 'no-validation') validateCompressed(weights);
      let disposed = false;
      const handle: PreparedWeights & { sparse: CompressedNM } = {
        kind: 'nm', backend: name, rows: weights.rows, cols: weights.cols, pattern: weights.pattern, bytes: 0, sparse: weights,
        get disposed() { return disposed; },
        dispose() { disposed = true; },
      };
      return handle;
    },
    async matmul(a: DenseMatrix, weights: PreparedWeights) {
      if (flaw !== 'no-validation') assertRunnable(name, capabilities, a, weights);
      const sparse = (weights as PreparedWeights & { sparse: CompressedNM }).sparse;
      const ref = flaw === 'dense-math' ? referenceDense(a, decompress(sparse)) : referenceSpmm(a, sparse);
      const data = Float32Array.from(ref.values);
      if (flaw === 'drops-last-column') for (let m = 0; m < a.rows; m++) data[m * sparse.cols + sparse.cols - 1] = 0;
      if (flaw === 'sloppy-rounding') for (let i = 0; i < data.length; i++) data[i] *= 1 + 1e-4;
      if (flaw === 'flushes-inf') for (let i = 0; i < data.length; i++) if (Math.abs(data[i]) === Number.POSITIVE_INFINITY) data[i] = 0;
      if (flaw === 'flips-inf') for (let i = 0; i < data.length; i++) if (Math.abs(data[i]) === Number.POSITIVE_INFINITY) data[i] = -data[i];
      return { rows: a.rows, cols: sparse.cols, data };
    },
    async upload(a: DenseMatrix) {
      assertDenseMatrix(a, 'A');
      // device-aliases-host: keeps the caller's array instead of a copy, so later host writes reach the "device".
      return new HostDeviceMatrix(name, a.rows, a.cols, flaw === 'device-aliases-host' ? a.data : a.data.slice());
    },
    async matmulDevice(a: DeviceMatrix, weights: PreparedWeights) {
      if (flaw !== 'device-no-validation') assertRunnableOnDevice(name, capabilities, a, weights);
      // device-reads-a-late: looks at A only after an await, when a dispose() right after the call has freed it.
      if (flaw === 'device-reads-a-late') await Promise.resolve();
      const view = a instanceof HostDeviceMatrix ? a.view() : (a as unknown as DenseMatrix);
      const c = await this.matmul(view, weights);
      return new HostDeviceMatrix(name, c.rows, c.cols, c.data);
    },
    async time() {
      return summarizeTimings([1], 'host');
    },
    async dispose() {},
  };
}

async function failures(flaw: Flaw): Promise<string[]> {
  const backend = flawedBackend(flaw);
  const failed: string[] = [];
  for (const testCase of conformanceCases('quick')) {
    try {
      await testCase.run(backend);
    } catch {
      failed.push(testCase.id);
    }
  }
  return failed;
}

describe('the conformance suite', () => {
  it('passes an honest backend', async () => {
    expect(await failures('honest')).toEqual([]);
  });

  it('catches a backend that multiplies pruned NaN/Inf (dense math on decompressed weights)', async () => {
    const failed = await failures('dense-math');
    expect(failed).toContain('special-values/pruned-rows-contribute-nothing');
    expect(failed).toContain('special-values/pruned-nan-per-column-at-batch-size');
  });

  it('catches a ragged-edge bug', async () => {
    const failed = await failures('drops-last-column');
    expect(failed).toContain('ragged/N=1');
    expect(failed).toContain('hand-checked/2:4-elementwise');
  });

  it('catches missing validation', async () => {
    const failed = await failures('no-validation');
    expect(failed).toEqual(expect.arrayContaining(['bad-input/corrupt-indices', 'bad-input/foreign-weights', 'bad-input/disposed-weights']));
  });

  it('catches a backend that returns 0 or the wrong-signed infinity where ±Inf is expected', async () => {
    const infCases = ['special-values/nan-inf-propagate', 'special-values/pruned-nan-per-column-at-batch-size', 'device/pruned-nan-per-column-at-batch-size'];
    expect(await failures('flushes-inf')).toEqual(infCases);
    expect(await failures('flips-inf')).toEqual(infCases);
  });

  it('catches a device matrix that aliases the host array, and a device path without validation', async () => {
    expect(await failures('device-aliases-host')).toEqual(['device/upload-read-round-trip']);
    expect(await failures('device-no-validation')).toContain('device/bad-input');
    expect(await failures('device-reads-a-late')).toEqual(['device/dispose-while-running']);
  });

  it('catches errors beyond float32 rounding', async () => {
    expect((await failures('sloppy-rounding')).length).toBeGreaterThan(40);
  });
});
