import type { NMPattern, PreparedWeights } from '@nmkit/format';
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

  /** Device bytes held, the widened copy included (0 after dispose). */
  get bytes(): number {
    return (this.native?.bytes ?? 0) + (this.wideCopy?.native.bytes ?? 0);
  }

  /** The widened copy, for the backend (undefined after dispose or when there is none). */
  get wide(): UploadedWeights | undefined {
    return this.wideCopy;
  }

  get disposed(): boolean {
    return this.native === undefined;
  }

  /** The addon's handle, for the backend. */
  get handle(): NativeWeights | undefined {
    return this.native;
  }

  dispose(): void {
    if (!this.native) return;
    this.native.free();
    this.native = undefined;
    this.wideCopy?.native.free();
    this.wideCopy = undefined;
    this.onDispose(this);
  }
}
