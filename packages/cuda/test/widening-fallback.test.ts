import { DeviceError, nmPattern, randomCompressed, randomDense } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { CudaBackend, type NativeAddon, type NativePlan, type NativeProbe, type NativeUpload } from '../src/index.js';

// The backend's routing of widened copies, against a stand-in addon that records what it is asked (no GPU needed;
// the real addon's refusal of a non-finite A is checked on the H100 by `device-run.js widen`).

const probe: NativeProbe = {
  ok: true, errorCode: 0, error: '', deviceCount: 1, driverVersion: 13000, runtimeVersion: 13000, name: 'stand-in',
  computeCapability: '9.0', multiprocessors: 132, sharedPerBlockOptin: 232448, maxThreadsPerBlock: 1024, totalMemory: 2 ** 36,
};

interface Call { handle: number; plan: NativePlan }

/** An addon whose uploads are numbered handles; matmul refuses finiteA plans with `refuse` (cudaError −2 by default). */
function standIn(options: { refuse?: number; failWideUpload?: boolean } = {}) {
  const uploads: NativeUpload[] = [];
  const calls: Call[] = [];
  const addon = {
    probe: () => probe,
    build: { cudaRuntime: 13000, architectures: 'sm_90' },
    Context: class {
      async upload(desc: NativeUpload) {
        if (options.failWideUpload && desc.vectorLength === 32) throw Object.assign(new Error('out of memory'), { cudaError: 2 });
        uploads.push(desc);
        return { handle: uploads.length - 1, bytes: desc.values.byteLength, free() {} };
      }
      async matmul(weights: { handle: number }, _a: Float32Array, m: number, _k: number, plan: NativePlan) {
        calls.push({ handle: weights.handle, plan });
        if (plan.finiteA && options.refuse !== undefined) throw Object.assign(new Error('refused'), { cudaError: options.refuse });
        return new Float32Array(m * 8).fill(weights.handle + 1);
      }
      memInfo() {
        return { free: 0, total: 0 };
      }
      cublasSource() {
        return '';
      }
    },
  } as unknown as NativeAddon;
  return { backend: new CudaBackend(addon, probe), uploads, calls };
}

describe('widened copies: routing (stand-in addon)', () => {
  const sparse = randomCompressed(64, 8, nmPattern(2, 4), 3);

  it('uploads the original and the copy; above 16 rows the copy runs with finiteA, at 16 the original without', async () => {
    const { backend, uploads, calls } = standIn();
    const w = await backend.prepare(sparse);
    expect(uploads.map((u) => u.vectorLength)).toEqual([1, 32]);
    expect(w.bytes).toBe(uploads[0].values.byteLength + uploads[1].values.byteLength);
    await backend.matmul(randomDense(17, 64, 1), w);
    await backend.matmul(randomDense(16, 64, 1), w);
    expect(calls.map((c) => [c.handle, c.plan.finiteA ?? 0])).toEqual([[1, 1], [0, 0]]);
  });

  it('reruns on the original weights with their own plan when the addon refuses a non-finite A', async () => {
    const { backend, calls } = standIn({ refuse: -2 });
    const w = await backend.prepare(sparse);
    const c = await backend.matmul(randomDense(40, 64, 1), w);
    expect(calls.map((call) => [call.handle, call.plan.finiteA ?? 0])).toEqual([[1, 1], [0, 0]]);
    expect(calls[1].plan.kernel).toBe(2); // the streaming kernel: the original has no tiled layout
    expect(c.data[0]).toBe(1); // the original's result
  });

  it('reports any other failure of the copy as a DeviceError instead of rerunning', async () => {
    const { backend, calls } = standIn({ refuse: 700 });
    const w = await backend.prepare(sparse);
    await expect(backend.matmul(randomDense(40, 64, 1), w)).rejects.toThrow(DeviceError);
    expect(calls).toHaveLength(1);
  });

  it('keeps the weights without a copy when the copy does not fit on the device', async () => {
    const { backend, uploads, calls } = standIn({ failWideUpload: true });
    const w = await backend.prepare(sparse);
    expect(w.wide).toBeUndefined();
    expect(uploads).toHaveLength(1);
    await backend.matmul(randomDense(40, 64, 1), w);
    expect(calls.map((c) => c.handle)).toEqual([0]);
  });
});
