import {
  assertDenseMatrix,
  assertRunnable,
  type BackendCapabilities,
  type BackendProvider,
  BackendUnavailableError,
  type CheckResult,
  type CompressedNM,
  capabilityProblem,
  type DenseMatrix,
  DisposedError,
  density,
  LimitError,
  type MatmulOptions,
  type MatmulShape,
  type NMBackend,
  NMError,
  type NMPattern,
  ShapeError,
  summarizeTimings,
  type TimingOptions,
  type TimingResult,
  timingRuns,
  validateCompressed,
  decompress,
  type WidenMode,
  WIDEN_MODES,
  widenedCopy,
  widenedCopyBound,
  type HostDeviceMatrix,
  HostMatrixSet,
} from '@nmkit/format';
import { cpuBlocking, cpuKernelFor, planCpuTiling } from './cpu-plan.js';
import { CpuWeights } from './cpu-weights.js';
import { type KernelJob, tileCount } from './kernels/kernel-job.js';
import { allocateFloats, copyFloats, keptRowTable, packDenseStrips, packNMStrips } from './kernels/pack.js';
import { NR } from './kernels/micro-kernel.js';
import { runTile } from './kernels/run-tile.js';
import { stripMap } from './kernels/strips.js';
import { loadNodeBuiltins, type NodeBuiltins } from './node-modules.js';
import { WorkerPool } from './worker-pool.js';

/** Whether every entry is finite (no NaN, no ±Inf): x − x is 0 exactly for finite x. */
function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) return false;
  return true;
}

/** Shared-memory buffers for A and C, reused across products. */
interface Workspace {
  readonly a: Float32Array;
  readonly c: Float32Array;
}

/** Most worker threads {@link createCpuBackend} starts: a guard against runaway values, far above today's core counts. */
export const MAX_CPU_THREADS = 256;

/** Options of {@link createCpuBackend}. */
export interface CpuBackendOptions {
  /**
   * Worker threads, an integer in [1, {@link MAX_CPU_THREADS}] (default: every core, `os.availableParallelism()`,
   * capped at that limit); 1 runs on the calling thread, no workers.
   */
  readonly threads?: number;
  /** Where the worker script is (default: `worker.js` beside this module; from TypeScript sources, `../dist/worker.js`). */
  readonly workerUrl?: URL | string;
  /**
   * Multiply-adds below which a product runs on the calling thread instead of the workers (default 2²¹, about a
   * millisecond: below it, copying A and messaging cost more than they save). 0 sends everything to the workers.
   */
  readonly parallelThreshold?: number;
  /**
   * Whether `prepare()` also keeps a widened copy (format `widenVectors`, V = 8) of weights with V < 8, which the
   * general row kernel would run (element-wise 2:4 at a sixth of the dense speed): `auto` (default) when the copy
   * holds at most twice the values, `always`, `never` (format {@link WidenMode}).
   */
  readonly widen?: WidenMode;
}

const CAPABILITIES: BackendCapabilities = {
  dtypes: ['float32'],
  maxGroup: 256,
  vectorLengths: 'any',
  fastPaths:
    'V ≥ 8 (4×8 register tiles over packed strips; fastest when V is a multiple of 8); V < 8 runs a widened copy (V = 8, ' +
    'dense where it keeps every row) while A is finite, else a general row kernel',
  limits: { maxBufferBytes: 2 ** 31 - 1, maxDimension: 2 ** 31 - 1 },
  timing: 'host',
  denseBaseline: 'blocked dense GEMM (same threads, cache blocks and 4×8 register tiles)',
};

/**
 * Why B packed for the strip kernels would not fit the buffer limit: every vector's last strip is padded to
 * {@link NR} columns, so packed B can be up to 8× the compressed values when N is below 8 (at V ≥ 8, up to 16/9×
 * for V = 9; V < 8 runs the general kernel on the values as given).
 */
function packedProblem(shape: MatmulShape, pattern: NMPattern | undefined): string | undefined {
  if (pattern && cpuKernelFor(pattern) !== 'spmm-nm-strips') return undefined; // the general kernel reads values as given
  const rows = pattern ? Math.ceil(shape.k / pattern.group) * pattern.keep : shape.k;
  const bytes = stripMap(shape.n, pattern ? pattern.vectorLength : shape.n).strips * rows * NR * 4;
  if (bytes <= CAPABILITIES.limits.maxBufferBytes) return undefined;
  return `B packed into strips of ${NR} columns (each vector's last strip zero-padded) needs ${bytes} bytes, over cpu's buffer limit of ${CAPABILITIES.limits.maxBufferBytes} bytes`;
}

/** Refuses weights that (compressed or packed) would not fit the buffer limit, before anything is allocated. */
function assertWeightsFit(rows: number, cols: number, pattern: NMPattern | undefined): void {
  const shape = { m: 1, n: cols, k: rows };
  const problem = capabilityProblem('cpu', CAPABILITIES, shape, pattern) ?? packedProblem(shape, pattern);
  if (problem) {
    throw new LimitError(
      `cpu cannot hold weights ${rows}×${cols}: ${problem}.`,
      'split the weights into blocks of fewer rows or columns, or use another backend.',
    );
  }
}

/**
 * The fast CPU backend: N:M SpMM (and a dense baseline) with cache blocks over M, N and K, 4×8 register tiles
 * fed by A panels gathered at each vector's kept rows, and every core through persistent `worker_threads`
 * sharing A, B and C in SharedArrayBuffers. Where worker threads do not exist (browsers) it runs the same
 * kernels on the calling thread. Create it with {@link createCpuBackend} or {@link cpuProvider}.
 * @example
 * const cpu = await createCpuBackend();
 * const w = await cpu.prepare(pruneByMagnitude(b, nmPattern(8, 32, 32)));
 * const c = await cpu.matmul(a, w);
 * await cpu.dispose();
 */
export class CpuBackend implements NMBackend {
  readonly name = 'cpu';
  readonly capabilities = CAPABILITIES;
  private pool: WorkerPool | undefined;
  private closed = false;
  /** Device matrices made through this backend, disposed with it. */
  private readonly matrices = new HostMatrixSet('cpu', CAPABILITIES);
  private spare: Workspace[] = [];

  /** @internal Use {@link createCpuBackend}. */
  constructor(
    pool: WorkerPool | undefined,
    readonly device: string,
    /** Threads a product is split over (1 = the calling thread). */
    readonly threads: number,
    private readonly parallelThreshold: number,
    /** Whether prepare() keeps widened copies of weights with V < 8 ({@link CpuBackendOptions.widen}). */
    readonly widen: WidenMode = 'auto',
  ) {
    this.pool = pool;
  }

  check(shape: MatmulShape, pattern: NMPattern | undefined): CheckResult {
    const reason = capabilityProblem(this.name, CAPABILITIES, shape, pattern) ?? packedProblem(shape, pattern);
    if (reason) return { ok: false, reason };
    // Weights with V < 8 run their widened copy where prepare() keeps one: the plan of the widest it could be.
    const widest = pattern && pattern.vectorLength < NR ? widenedCopyBound(pattern, NR, this.widen) : undefined;
    const planned = widest ? (widest.keep === widest.group ? undefined : widest) : pattern;
    return { ok: true, plan: planCpuTiling(shape, planned, this.threads) };
  }

  async prepare(weights: CompressedNM): Promise<CpuWeights> {
    this.assertOpen();
    const layout = validateCompressed(weights);
    const { rows, cols, pattern } = weights;
    assertWeightsFit(rows, cols, pattern);
    const shared = this.pool !== undefined;
    const kernel = cpuKernelFor(pattern);
    const arrays =
      kernel === 'spmm-nm-strips'
        ? { kernel, packed: packNMStrips(weights, stripMap(cols, pattern.vectorLength), shared), rowTable: keptRowTable(weights, true, shared) }
        : { kernel, packed: copyFloats(weights.values, shared), rowTable: keptRowTable(weights, false, shared) };
    const prepared = new CpuWeights(this.name, 'nm', rows, cols, { ...pattern }, { ...arrays, bRows: layout.keptRows });
    const widened = pattern.vectorLength < NR ? widenedCopy(weights, NR, this.widen) : undefined;
    if (widened) prepared.wide = await this.prepareWide(widened);
    return prepared;
  }

  /**
   * Prepares the widened copy of weights with V < 8 (V = 8: the strip kernels; dense where it keeps every row), or
   * undefined where it would pass the buffer limit: the copy is an optimisation, the original runs without it.
   */
  private async prepareWide(widened: CompressedNM): Promise<CpuWeights | undefined> {
    try {
      return widened.pattern.keep === widened.pattern.group ? await this.prepareDense(decompress(widened)) : await this.prepare(widened);
    } catch (error) {
      if (NMError.isInstance(error) && error.code === 'LIMIT') return undefined;
      throw error;
    }
  }

  async prepareDense(weights: DenseMatrix): Promise<CpuWeights> {
    this.assertOpen();
    assertDenseMatrix(weights, 'B');
    assertWeightsFit(weights.rows, weights.cols, undefined);
    const shared = this.pool !== undefined;
    const rowTable = new Int32Array(shared ? new SharedArrayBuffer(0) : new ArrayBuffer(0));
    const arrays = { kernel: cpuKernelFor(undefined), packed: packDenseStrips(weights, shared), rowTable, bRows: weights.rows };
    return new CpuWeights(this.name, 'dense', weights.rows, weights.cols, undefined, arrays);
  }

  async matmul(a: DenseMatrix, weights: CpuWeights, options: MatmulOptions = {}): Promise<DenseMatrix> {
    this.assertOpen();
    assertRunnable(this.name, CAPABILITIES, a, weights);
    if (!(weights instanceof CpuWeights)) {
      throw new ShapeError('cpu: weights must come from prepare() or prepareDense() of a cpu backend.');
    }
    // A widened copy stores pruned entries as zeros, and 0 · NaN is NaN: it runs only for a finite A (and no forced
    // plan, which names the original's kernel).
    return this.product(a, weights.wide && !options.plan && allFinite(a.data) ? weights.wide : weights, options);
  }

  /** Copies A into memory this backend owns (its device is the host), for {@link matmulDevice}. */
  async upload(a: DenseMatrix): Promise<HostDeviceMatrix> {
    this.assertOpen();
    return this.matrices.upload(a);
  }

  /** {@link matmul} on a matrix from {@link upload}; C stays in a device matrix of this backend. */
  async matmulDevice(a: HostDeviceMatrix, weights: CpuWeights, options: MatmulOptions = {}): Promise<HostDeviceMatrix> {
    this.assertOpen();
    return this.matrices.product(a, weights, (view) => this.matmul(view, weights, options));
  }

  /** One product on validated operands. */
  private async product(a: DenseMatrix, weights: CpuWeights, options: MatmulOptions): Promise<DenseMatrix> {
    const { packed, rowTable, kernel, bRows } = weights.packed;
    const pattern = weights.pattern;
    const shape = { m: a.rows, n: weights.cols, k: a.cols };
    const blocking = cpuBlocking(options.plan ?? planCpuTiling(shape, pattern, this.threads), shape, pattern);
    const base = {
      kernel,
      ...shape,
      keep: pattern?.keep ?? 1,
      group: pattern?.group ?? 1,
      vectorLength: pattern?.vectorLength ?? shape.n,
      bRows,
      tileRows: blocking.tileRows,
      tileCols: blocking.tileCols,
      stageRows: blocking.stageRows,
      packed,
      rowTable,
    };
    const multiplyAdds = shape.m * shape.n * shape.k * (pattern ? density(pattern) : 1);
    const pool = this.pool;
    const shared = isShared(packed);
    if (!pool || !shared || multiplyAdds < this.parallelThreshold) {
      const job: KernelJob = { ...base, a: a.data, c: new Float32Array(shape.m * shape.n) };
      const tiles = tileCount(job);
      for (let tile = 0; tile < tiles; tile++) runTile(job, tile);
      return { rows: shape.m, cols: shape.n, data: job.c };
    }
    // Workers need A and C in shared memory: A is copied into a reused workspace (unless the caller's A is already
    // shared) and C is copied out, so the caller gets an ordinary, unshared Float32Array. Workspaces are reused
    // because allocating (and first touching) fresh shared memory each call costs more than the copies.
    const inShared = isShared(a.data);
    const space = this.takeWorkspace(inShared ? 0 : a.data.length, shape.m * shape.n);
    let sharedA = a.data;
    if (!inShared) {
      sharedA = space.a.subarray(0, a.data.length);
      sharedA.set(a.data);
    }
    const job: KernelJob = { ...base, a: sharedA, c: space.c.subarray(0, shape.m * shape.n) };
    // A workspace is recycled only after a product that succeeded: after a failure (a worker died, the pool was
    // disposed) a worker may still be writing into it.
    await pool.run(job, tileCount(job));
    const c = job.c.slice();
    this.returnWorkspace(space);
    return { rows: shape.m, cols: shape.n, data: c };
  }

  async time(a: DenseMatrix, weights: CpuWeights, options: TimingOptions = {}): Promise<TimingResult> {
    // Validate as matmul does before planning reads a.rows or weights.cols (a TypeError on null otherwise).
    this.assertOpen();
    assertRunnable(this.name, CAPABILITIES, a, weights);
    const { warmup, repeats } = timingRuns(options);
    // What matmul() runs: the widened copy for a finite A, its check of A included in the timed calls.
    const wide = weights instanceof CpuWeights && !options.plan && allFinite(a.data) ? weights.wide : undefined;
    const plan = options.plan ?? planCpuTiling({ m: a.rows, n: weights.cols, k: a.cols }, (wide ?? weights).pattern, this.threads);
    const once = () => this.matmul(a, weights, wide ? {} : { plan });
    for (let i = 0; i < warmup; i++) await once();
    const samples: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const start = performance.now();
      await once();
      samples.push(performance.now() - start);
    }
    return summarizeTimings(samples, 'host', plan);
  }

  /** Terminates the worker threads; products still running reject with DisposedError. Idempotent. */
  async dispose(): Promise<void> {
    this.closed = true;
    this.matrices.disposeAll();
    this.spare = [];
    const pool = this.pool;
    this.pool = undefined;
    await pool?.dispose();
  }

  private takeWorkspace(aLength: number, cLength: number): Workspace {
    const i = this.spare.findIndex((w) => w.a.length >= aLength && w.c.length >= cLength);
    if (i >= 0) return this.spare.splice(i, 1)[0];
    return { a: allocateFloats(aLength, true), c: allocateFloats(cLength, true) };
  }

  /** Keeps the two largest idle workspaces (two products may overlap); the rest are left to the GC. */
  private returnWorkspace(space: Workspace): void {
    if (this.closed) return;
    this.spare.push(space);
    this.spare.sort((x, y) => y.a.length + y.c.length - (x.a.length + x.c.length));
    this.spare.length = Math.min(this.spare.length, 2);
  }

  private assertOpen(): void {
    if (this.closed) throw new DisposedError('The cpu backend');
  }
}

/**
 * Creates the fast CPU backend: spawns its worker threads (Node) and waits until they are ready.
 * @throws {LimitError} when `threads` is not an integer in [1, {@link MAX_CPU_THREADS}] (before any worker starts).
 * @throws {BackendUnavailableError} when the worker script cannot be loaded (with the path tried and the fix).
 * @example const cpu = await createCpuBackend({ threads: 2 });
 */
export async function createCpuBackend(options: CpuBackendOptions = {}): Promise<CpuBackend> {
  // Checked first: Infinity or 1e9 would otherwise spawn workers until the process runs out of memory.
  if (options.threads !== undefined && !(Number.isSafeInteger(options.threads) && options.threads >= 1 && options.threads <= MAX_CPU_THREADS)) {
    throw new LimitError(
      `cpu: threads=${options.threads} is not an integer in [1, ${MAX_CPU_THREADS}].`,
      `pass a whole number of threads from 1 to ${MAX_CPU_THREADS} (usually at most the core count), or leave it out to use every core.`,
    );
  }
  const widen = options.widen ?? 'auto';
  if (!WIDEN_MODES.includes(widen)) {
    throw new BackendUnavailableError('cpu', `options.widen=${String(widen)} is not a widening mode`, "pass 'auto' (the default), 'always' or 'never'.");
  }
  const node = await loadNodeBuiltins();
  const parallelThreshold = options.parallelThreshold ?? 2 ** 21;
  const cores = node ? (node.os.availableParallelism?.() ?? node.os.cpus().length) : 1;
  const threads = options.threads ?? Math.max(1, Math.min(cores, MAX_CPU_THREADS));
  const model = node ? (node.os.cpus()[0]?.model?.trim() ?? 'unknown CPU') : 'JavaScript';
  if (!node || threads === 1) {
    const why = node ? '' : ' (no worker_threads here)';
    return new CpuBackend(undefined, `${model}, 1 thread${why}`, 1, parallelThreshold, widen);
  }
  const url = resolveWorkerUrl(node, options.workerUrl);
  if (!node.fs.existsSync(node.url.fileURLToPath(url))) {
    throw new BackendUnavailableError(
      'cpu',
      `its worker script ${node.url.fileURLToPath(url)} does not exist`,
      'build the package (pnpm --filter @nmkit/cpu-ref build), keep dist/worker.js beside the bundle that imports ' +
        '@nmkit/cpu-ref, pass workerUrl, or use threads: 1.',
    );
  }
  let pool: WorkerPool;
  try {
    pool = await WorkerPool.start(node, threads, url);
  } catch (error) {
    throw new BackendUnavailableError(
      'cpu',
      `its ${threads} worker threads did not start: ${error instanceof Error ? error.message : String(error)}`,
      'check that dist/worker.js matches this build, or use threads: 1.',
    );
  }
  return new CpuBackend(pool, `${model}, ${threads} worker threads`, threads, parallelThreshold, widen);
}

/** The worker script: the caller's, else `worker.js` beside this module, else (running from src/) `../dist/worker.js`. */
function resolveWorkerUrl(node: NodeBuiltins, given: URL | string | undefined): URL {
  if (given !== undefined) return given instanceof URL ? given : node.url.pathToFileURL(given);
  const beside = new URL('./worker.js', import.meta.url);
  if (node.fs.existsSync(node.url.fileURLToPath(beside))) return beside;
  return new URL('../dist/worker.js', import.meta.url);
}

/**
 * A registry entry for the fast CPU backend with given options (priority 100). `create()` never throws: an
 * unavailable backend comes back with its reason and fix.
 * @example const registry = new BackendRegistry().register(createCpuProvider({ threads: 4 })).register(cpuReferenceProvider);
 */
export function createCpuProvider(options: CpuBackendOptions = {}): BackendProvider {
  return {
    name: 'cpu',
    priority: 100,
    create: async () => {
      try {
        return { available: true, backend: await createCpuBackend(options) };
      } catch (error) {
        if (NMError.isInstance(error)) return { available: false, reason: error.message, fix: error.fix };
        return { available: false, reason: String(error) };
      }
    },
  };
}

/**
 * Registry entry for the fast CPU backend with default options: every core, worker threads in Node.
 * @example const registry = new BackendRegistry().register(cpuProvider).register(cpuReferenceProvider);
 */
export const cpuProvider: BackendProvider = createCpuProvider();

/** True for a view on a SharedArrayBuffer; false where the global does not exist (pages without cross-origin isolation). */
function isShared(array: Float32Array): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && array.buffer instanceof SharedArrayBuffer;
}
