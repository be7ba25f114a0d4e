import {
  assertDenseMatrix,
  assertRunnable,
  type BackendCapabilities,
  type BackendProvider,
  type CheckResult,
  type CompressedNM,
  capabilityProblem,
  DEFAULT_DEVICE_LIMITS,
  type DenseMatrix,
  DisposedError,
  type MatmulShape,
  type NMBackend,
  type NMPattern,
  planTiling,
  referenceDenseValues,
  referenceSpmmValues,
  summarizeTimings,
  type TimingOptions,
  type TimingResult,
  timingRuns,
  validateCompressed,
  type HostDeviceMatrix,
  HostMatrixSet,
} from '@nmkit/format';
import { HostWeights } from './prepared.js';

const CAPABILITIES: BackendCapabilities = {
  dtypes: ['float32'],
  maxGroup: 256,
  vectorLengths: 'any',
  fastPaths: 'none: the reference favours obviousness over speed',
  limits: { maxBufferBytes: 2 ** 31 - 1, maxDimension: 2 ** 31 - 1 },
  timing: 'host',
  denseBaseline: 'float64 dense reference',
};

/**
 * The oracle: N:M SpMM straight from the format's definition ({@link referenceSpmm}, float64 accumulation,
 * rounded to float32). Obviously correct and slow; every other backend is checked against it.
 * @example
 * const ref = new CpuReferenceBackend();
 * const c = await ref.matmul(a, await ref.prepare(sparse));
 * await ref.dispose(); // later calls throw DisposedError
 */
export class CpuReferenceBackend implements NMBackend {
  readonly name = 'cpu-ref';
  readonly device = 'JavaScript, one thread, float64 accumulation';
  readonly capabilities = CAPABILITIES;
  private closed = false;
  /** Device matrices made through this backend, disposed with it. */
  private readonly matrices = new HostMatrixSet('cpu-ref', CAPABILITIES);

  check(shape: MatmulShape, pattern: NMPattern | undefined): CheckResult {
    const reason = capabilityProblem(this.name, CAPABILITIES, shape, pattern);
    return reason ? { ok: false, reason } : { ok: true, plan: planTiling(shape, pattern, DEFAULT_DEVICE_LIMITS) };
  }

  async prepare(weights: CompressedNM): Promise<HostWeights> {
    this.assertOpen();
    validateCompressed(weights);
    const copy: CompressedNM = { ...weights, pattern: { ...weights.pattern }, values: weights.values.slice(), indices: weights.indices.slice() };
    const bytes = copy.values.byteLength + copy.indices.byteLength;
    return new HostWeights(this.name, 'nm', weights.rows, weights.cols, copy.pattern, copy, undefined, bytes);
  }

  async prepareDense(weights: DenseMatrix): Promise<HostWeights> {
    this.assertOpen();
    assertDenseMatrix(weights, 'B');
    const copy = { rows: weights.rows, cols: weights.cols, data: weights.data.slice() };
    return new HostWeights(this.name, 'dense', weights.rows, weights.cols, undefined, undefined, copy, copy.data.byteLength);
  }

  async matmul(a: DenseMatrix, weights: HostWeights): Promise<DenseMatrix> {
    this.assertOpen();
    assertRunnable(this.name, CAPABILITIES, a, weights);
    // C alone: the error-bound magnitudes that checks need would double the float64 memory.
    const values = weights.sparse ? referenceSpmmValues(a, weights.sparse) : referenceDenseValues(a, weights.dense!);
    return { rows: a.rows, cols: weights.cols, data: Float32Array.from(values) };
  }

  /** Copies A into memory this backend owns (its device is the host), for {@link matmulDevice}. */
  async upload(a: DenseMatrix): Promise<HostDeviceMatrix> {
    this.assertOpen();
    return this.matrices.upload(a);
  }

  /** {@link matmul} on a matrix from {@link upload}; C stays in a device matrix of this backend. */
  async matmulDevice(a: HostDeviceMatrix, weights: HostWeights): Promise<HostDeviceMatrix> {
    this.assertOpen();
    return this.matrices.product(a, weights, (view) => this.matmul(view, weights));
  }

  /** Times {@link matmul} on the host clock, with the contract's defaults (3 warm-up runs, 10 timed). */
  async time(a: DenseMatrix, weights: HostWeights, options: TimingOptions = {}): Promise<TimingResult> {
    this.assertOpen();
    assertRunnable(this.name, CAPABILITIES, a, weights);
    const { warmup, repeats } = timingRuns(options);
    const samples: number[] = [];
    for (let i = 0; i < warmup; i++) await this.matmul(a, weights);
    for (let i = 0; i < repeats; i++) {
      const start = performance.now();
      await this.matmul(a, weights);
      samples.push(performance.now() - start);
    }
    return summarizeTimings(samples, 'host');
  }

  /** Marks the backend disposed: it holds nothing else, but later calls throw DisposedError as the contract says. */
  async dispose(): Promise<void> {
    this.closed = true;
    this.matrices.disposeAll();
  }

  private assertOpen(): void {
    if (this.closed) throw new DisposedError('The cpu-ref backend');
  }
}

/** Registry entry for the reference backend: always available, lowest priority. */
export const cpuReferenceProvider: BackendProvider = {
  name: 'cpu-ref',
  priority: 0,
  create: async () => ({ available: true, backend: new CpuReferenceBackend() }),
};
