import { CudaBackend, type NativeAddon, type NativePlan, type NativeProbe, type NativeUpload } from '../src/index.js';

// A stand-in addon that records what the backend asks of it (no GPU needed): the backend's routing and validation
// are tested against it; the real addon runs the same calls on the H100 (`device-run.js`).

export const standInProbe: NativeProbe = {
  ok: true, errorCode: 0, error: '', deviceCount: 1, driverVersion: 13000, runtimeVersion: 13000, name: 'stand-in',
  computeCapability: '9.0', multiprocessors: 132, sharedPerBlockOptin: 232448, maxThreadsPerBlock: 1024, totalMemory: 2 ** 36,
};

export interface StandInCall { handle: number; plan: NativePlan; device?: boolean }

/** A stand-in device matrix: its floats, and whether free() was called. */
export interface StandInMatrix { data: Float32Array; bytes: number; freed: boolean; free(): void }

/**
 * An addon whose uploads are numbered handles. matmul and matmulDevice fill C (8 columns) with handle + 1, and
 * refuse finiteA plans with `refuse` (cudaError −2 is the addon's refusal of a non-finite A).
 */
export function standIn(options: { refuse?: number; failWideUpload?: boolean; totalMemory?: number; inlineSmallCalls?: boolean } = {}) {
  const uploads: NativeUpload[] = [];
  /** The handle of each upload, with whether free() was called on it. */
  const weights: { handle: number; bytes: number; freed: boolean; free(): void }[] = [];
  const calls: StandInCall[] = [];
  const matrices: StandInMatrix[] = [];
  const timings: { handle: number; repeats: number; deviceInput: boolean }[] = [];
  const matrix = (data: Float32Array): StandInMatrix => {
    const m: StandInMatrix = { data, bytes: data.byteLength, freed: false, free() { m.freed = true; } };
    matrices.push(m);
    return m;
  };
  const run = (w: { handle: number; freed?: boolean }, m: number, plan: NativePlan, device: boolean) => {
    if (w.freed) throw new Error('device weights were freed');
    calls.push({ handle: w.handle, plan, device });
    if (plan.finiteA && options.refuse !== undefined) throw Object.assign(new Error('refused'), { cudaError: options.refuse });
    return new Float32Array(m * 8).fill(w.handle + 1);
  };
  const probe = { ...standInProbe, totalMemory: options.totalMemory ?? standInProbe.totalMemory };
  const addon = {
    probe: () => probe,
    build: { cudaRuntime: 13000, architectures: 'sm_90' },
    Context: class {
      /** What setInlineSmallCalls was last told. */
      inline = false;
      setInlineSmallCalls(on: boolean) {
        this.inline = on;
      }
      async upload(desc: NativeUpload) {
        if (options.failWideUpload && desc.vectorLength === 32) throw Object.assign(new Error('out of memory'), { cudaError: 2 });
        uploads.push(desc);
        const handle = { handle: uploads.length - 1, bytes: desc.values.byteLength, freed: false, free() { handle.freed = true; } };
        weights.push(handle);
        return handle;
      }
      async matmul(w: { handle: number }, _a: Float32Array, m: number, _k: number, plan: NativePlan) {
        return run(w, m, plan, false);
      }
      async uploadMatrix(data: Float32Array, rows: number, cols: number) {
        if (rows * cols !== data.length) throw new RangeError(`uploadMatrix: ${rows}×${cols} does not match ${data.length} floats`);
        return matrix(data.slice());
      }
      async readMatrix(m: StandInMatrix) {
        if (m.freed) throw new Error('device matrix was freed');
        return m.data.slice();
      }
      async matmulDevice(w: { handle: number }, a: StandInMatrix, m: number, _k: number, plan: NativePlan) {
        if (a.freed) throw new Error('device matrix was freed');
        return matrix(run(w, m, plan, true));
      }
      /** Records what it was asked to time; one sample per timed run. */
      async time(w: { handle: number }, _a: Float32Array, m: number, _k: number, plan: NativePlan, _warmup: number, repeats: number, deviceInput?: boolean) {
        run(w, m, plan, false);
        timings.push({ handle: w.handle, repeats, deviceInput: deviceInput ?? false });
        return new Float64Array(repeats).fill(0.5);
      }
      memInfo() {
        return { free: 0, total: 0 };
      }
      cublasSource() {
        return '';
      }
    },
  } as unknown as NativeAddon;
  return { backend: new CudaBackend(addon, probe, 0, 'auto', 'auto', options.inlineSmallCalls ?? false), uploads, weights, calls, matrices, timings };
}
