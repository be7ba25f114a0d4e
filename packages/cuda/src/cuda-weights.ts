import { LastUse, type NMPattern, type PreparedWeights } from '@nmkit/format';
import type { NativeWeights } from './native-types.js';
import type { WeightsInfo } from './planner.js';

/** Weights on the device and the sizes the planner needs about them. */
export interface UploadedWeights {
  readonly native: NativeWeights;
  readonly info: WeightsInfo;
}

/**
 * Weights resident on the GPU. `dispose()` frees the device buffers at once; if it is never called, the addon's
 * finalizer frees them when this object is garbage-collected (a safety net, not a plan).
 * @example const w = await backend.prepare(sparse); try { await backend.matmul(a, w); } finally { w.dispose(); }
 */
export class CudaWeights implements PreparedWeights {
  private native: NativeWeights | undefined;
  /** dispose() frees the device buffers after the last running call. */
  private readonly lastUse = new LastUse(
    () => this.free(),
    () => `Weights ${this.rows}×${this.cols} on ${this.backend}`,
  );

  constructor(
    readonly backend: string,
    readonly kind: 'nm' | 'dense',
    readonly rows: number,
    readonly cols: number,
    readonly pattern: NMPattern | undefined,
    native: NativeWeights,
    /** Sizes the planner needs. */
    readonly info: WeightsInfo,
    private readonly onDispose: (w: CudaWeights) => void,
    /**
     * The widened copy (V = 32, format `widenVectors`) of short-vector weights that the tiled kernels run above 16
     * rows; undefined when the backend keeps none (CudaBackendOptions `widen`).
     */
    private wideCopy?: UploadedWeights,
  ) {
    this.native = native;
  }

  /** Device bytes held, the widened copy included (0 once freed). */
  get bytes(): number {
    return (this.native?.bytes ?? 0) + (this.wideCopy?.native.bytes ?? 0);
  }

  /** The widened copy, for the backend (undefined after dispose or when there is none). */
  get wide(): UploadedWeights | undefined {
    return this.disposed ? undefined : this.wideCopy;
  }

  get disposed(): boolean {
    return this.lastUse.disposed;
  }

  /** The addon's handle, for the backend (undefined after dispose). */
  get handle(): NativeWeights | undefined {
    return this.disposed ? undefined : this.native;
  }

  /** Runs a call on these weights, held until it ends ({@link LastUse.holding}). @throws {DisposedError} */
  holding<T>(body: () => Promise<T>): Promise<T> {
    return this.lastUse.holding(body);
  }

  /** Frees the device buffers: at once for new calls, after the running ones for the device. Idempotent. */
  dispose(): void {
    if (this.lastUse.dispose()) this.onDispose(this);
  }

  private free(): void {
    this.native?.free();
    this.native = undefined;
    this.wideCopy?.native.free();
    this.wideCopy = undefined;
  }
}
