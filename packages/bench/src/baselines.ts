import type { DenseMatrix, MatmulShape, NMBackend, PreparedWeights, TimingOptions, TimingResult } from '@nmkit/format';
import { summarizeTimings } from '@nmkit/format';

/**
 * A dense C = A·B kernel that N:M results are compared against: a backend's own dense baseline (cuBLAS SGEMM,
 * dense WGSL, blocked CPU) or tfjs-backend-cpu's matMul.
 */
export interface DenseBaseline {
  /** Stable key in results: `<backend>-dense` or `tfjs`. */
  readonly id: string;
  /** For humans: "cuBLAS SGEMM", "tfjs-backend-cpu matMul". */
  readonly label: string;
  /** Backend whose device runs it (`tfjs` for tfjs). */
  readonly owner: string;
  readonly device: string;
  /** Why this shape cannot run, or undefined. Never throws. */
  check(shape: MatmulShape): string | undefined;
  prepare(b: DenseMatrix): Promise<PreparedWeights>;
  matmul(a: DenseMatrix, weights: PreparedWeights): Promise<DenseMatrix>;
  time(a: DenseMatrix, weights: PreparedWeights, options: TimingOptions): Promise<TimingResult>;
}

/**
 * The dense baseline of a backend that implements `prepareDense`, or undefined when it has none.
 * @example const cublas = backendDenseBaseline(cudaBackend); // id 'cuda-dense', label 'cuBLAS SGEMM'
 */
export function backendDenseBaseline(backend: NMBackend): DenseBaseline | undefined {
  const prepareDense = backend.prepareDense?.bind(backend);
  if (!prepareDense) return undefined;
  return {
    id: `${backend.name}-dense`,
    label: backend.capabilities.denseBaseline ?? `${backend.name} dense`,
    owner: backend.name,
    device: backend.device,
    check: (shape) => {
      const result = backend.check(shape, undefined);
      return result.ok ? undefined : result.reason;
    },
    prepare: (b) => prepareDense(b),
    matmul: (a, w) => backend.matmul(a, w),
    time: (a, w, options) => backend.time(a, w, options),
  };
}

interface TfModule {
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  setBackend(name: string): Promise<boolean>;
  env(): { set(flag: string, value: boolean): void };
  version_core: string;
}
interface TfTensor {
  dataSync(): Float32Array;
  dispose(): void;
}

class TfWeights implements PreparedWeights {
  readonly kind = 'dense';
  readonly backend = 'tfjs';
  private released = false;
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly tensor: TfTensor,
  ) {}
  get bytes(): number {
    return this.rows * this.cols * 4;
  }
  get disposed(): boolean {
    return this.released;
  }
  dispose(): void {
    if (!this.released) this.tensor.dispose();
    this.released = true;
  }
}

/**
 * @tensorflow/tfjs-backend-cpu's matMul, host-timed around `matMul` + `dataSync` (the result is read back, as
 * every other backend's `time` waits for completion). Resolves to the reason when tfjs cannot be loaded.
 * @param maxFlops skip shapes above this many FLOP (2·M·N·K): tfjs is single-threaded and slow.
 * @example const tfjs = await tfjsBaseline(4e9); if (typeof tfjs !== 'string') baselines.push(tfjs);
 */
export async function tfjsBaseline(maxFlops = Number.POSITIVE_INFINITY): Promise<DenseBaseline | string> {
  let tf: TfModule;
  try {
    tf = (await import('@tensorflow/tfjs-core')) as unknown as TfModule;
    // PROD skips per-op NaN debugging and the "install tfjs-node" banner; it does not change the kernels.
    tf.env().set('PROD', true);
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) return 'tf.setBackend("cpu") failed';
  } catch (error) {
    return `cannot load @tensorflow/tfjs-core / tfjs-backend-cpu: ${error instanceof Error ? error.message : String(error)}`;
  }
  const run = (a: DenseMatrix, w: PreparedWeights): Float32Array => {
    const ta = tf.tensor2d(a.data, [a.rows, a.cols]);
    const tc = tf.matMul(ta, (w as TfWeights).tensor);
    const data = tc.dataSync();
    ta.dispose();
    tc.dispose();
    return data;
  };
  return {
    id: 'tfjs',
    label: `tfjs-backend-cpu ${tf.version_core} matMul`,
    owner: 'tfjs',
    device: 'JavaScript, one thread (tfjs-backend-cpu)',
    check: (shape) => {
      const flops = 2 * shape.m * shape.n * shape.k;
      return flops > maxFlops
        ? `tfjs-backend-cpu is single-threaded: skipped above ${maxFlops.toExponential(1)} FLOP (this case is ${flops.toExponential(1)}); pass --baselines tfjs to force`
        : undefined;
    },
    prepare: async (b) => new TfWeights(b.rows, b.cols, tf.tensor2d(b.data, [b.rows, b.cols])),
    matmul: async (a, w) => {
      const data = run(a, w);
      return { rows: a.rows, cols: w.cols, data: data instanceof Float32Array ? data : Float32Array.from(data) };
    },
    time: async (a, w, options) => {
      for (let i = 0; i < (options.warmup ?? 3); i++) run(a, w);
      const samples: number[] = [];
      for (let i = 0; i < (options.repeats ?? 10); i++) {
        const start = performance.now();
        run(a, w);
        samples.push(performance.now() - start);
      }
      return summarizeTimings(samples, 'host');
    },
  };
}
