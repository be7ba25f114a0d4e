import type { TiledLayout } from './retile.js';

/** What `probe()` of the addon reports about the device (or why there is none). */
export interface NativeProbe {
  readonly ok: boolean;
  /** cudaError_t of cudaGetDeviceCount (35 = driver missing or too old, 100 = no device). */
  readonly errorCode: number;
  readonly error: string;
  readonly deviceCount: number;
  readonly driverVersion: number;
  readonly runtimeVersion: number;
  readonly name: string;
  readonly computeCapability: string;
  readonly multiprocessors: number;
  readonly sharedPerBlockOptin: number;
  readonly maxThreadsPerBlock: number;
  readonly totalMemory: number;
}

/**
 * Kernel choice handed to the addon: 0 tiled low-sparsity, 1 tiled high-sparsity, 2 streaming, 3 cuBLAS, 4 narrow
 * decode gathering from A, 5 narrow decode gathering from Aᵀ (after a transpose launch).
 */
export interface NativePlan {
  readonly kernel: 0 | 1 | 2 | 3 | 4 | 5;
  readonly bm: number;
  readonly wm: number;
  readonly stages: number;
  /** K slices of a tiled block (warp groups splitting each stage's kept rows); warps per narrow block (8 or 4); 1 elsewhere. */
  readonly slices: number;
  readonly splitK: number;
  /** Tiled split-K: 1 = the splits of a tile add up in a thread-block cluster (sm_90, ≤ 8 splits), 0 = atomics into a zeroed C. */
  readonly cluster: 0 | 1;
  readonly rowsPerBlock: number;
  readonly windowsPerSplit: number;
  /** 1: the weights are a widened copy, exact only for finite A; the addon refuses a NaN or ±Inf in A (cudaError −2). */
  readonly finiteA?: 0 | 1;
}

/** Host arrays of one upload (see native/host/cuda-context.h, UploadDesc). */
export interface NativeUpload {
  readonly dense: boolean;
  readonly rows: number;
  readonly cols: number;
  readonly ldb: number;
  readonly values: Float32Array;
  readonly keep?: number;
  readonly group?: number;
  readonly vectorLength?: number;
  readonly keptRows?: number;
  readonly vectors?: number;
  readonly indices?: Uint8Array;
  /** The re-tiled index layout the tiled kernel reads (see retile.ts). */
  readonly tile?: (Pick<TiledLayout, 'ks' | 'srows' | 'stages' | 'tilesN' | 'slotStride' | 'rows' | 'slots'> & { readonly perVector: boolean }) | null;
}

/** Device buffers of uploaded weights; `free()` is idempotent, and a finalizer frees them if JS forgets. */
export interface NativeWeights {
  readonly bytes: number;
  free(): void;
}

/** A dense matrix on the device; `free()` is idempotent, and a finalizer frees it if JS forgets. */
export interface NativeMatrix {
  readonly bytes: number;
  free(): void;
}

/** One device, one stream; work is serialised on it by the addon. */
export interface NativeContext {
  upload(desc: NativeUpload): Promise<NativeWeights>;
  matmul(weights: NativeWeights, a: Float32Array, m: number, k: number, plan: NativePlan): Promise<Float32Array>;
  /** A device copy of `data`, a rows × cols row-major matrix (the addon refuses a length that is not rows · cols). */
  uploadMatrix(data: Float32Array, rows: number, cols: number): Promise<NativeMatrix>;
  /** A new host array of the matrix's floats. */
  readMatrix(matrix: NativeMatrix): Promise<Float32Array>;
  /** C (a new device matrix) = A (device, m × k) · weights; a running call keeps A alive if JS frees it meanwhile. */
  matmulDevice(weights: NativeWeights, a: NativeMatrix, m: number, k: number, plan: NativePlan): Promise<NativeMatrix>;
  /** Whether calls of at most 16 rows (copies of at most 2¹⁸ floats) run on the JS thread when the context is idle. */
  setInlineSmallCalls?(on: boolean): void;
  /**
   * Per-launch device times in ms, A and C resident. `deviceInput`: A and C in the layouts matmulDevice reads and
   * writes in a chain (a tiled plan's Aᵀ made once, before the warm-up), else a tiled plan transposes A every launch.
   */
  time(
    weights: NativeWeights,
    a: Float32Array,
    m: number,
    k: number,
    plan: NativePlan,
    warmup: number,
    repeats: number,
    deviceInput?: boolean,
  ): Promise<Float64Array>;
  memInfo(): { free: number; total: number };
  cublasSource(): string;
}

/** The module `nmkit_cuda.node` exports. */
export interface NativeAddon {
  probe(device?: number): NativeProbe;
  Context: new (device?: number) => NativeContext;
  build: { readonly cudaRuntime: number; readonly architectures: string };
}
