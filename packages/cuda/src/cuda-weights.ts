import type { NMPattern, PreparedWeights } from '@nmkit/format';
import type { NativeWeights } from './native-types.js';
import type { WeightsInfo } from './planner.js';

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
  ) {
    this.native = native;
  }

  /** Device bytes held (0 after dispose). */
  get bytes(): number {
    return this.native?.bytes ?? 0;
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
    this.onDispose(this);
  }
}
