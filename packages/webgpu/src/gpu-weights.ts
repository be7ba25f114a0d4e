import { type CompressedNM, type DenseMatrix, LastUse, type NMPattern, type PreparedWeights } from '@nmkit/format';
import { BufferUsage } from './gpu-flags.js';
import type { GpuContext } from './gpu-context.js';
import { destroyWhenIdle } from './readback.js';
import { buildUnionRows, type StageRows, type UnionRows } from './union-rows.js';

/** Device buffers of one weight matrix on one device generation. */
interface Resident {
  readonly generation: number;
  readonly device: GPUDevice;
  readonly values: GPUBuffer;
  /** Packed in-window offsets (bytes, 4 per word); a 4-byte placeholder for dense weights. */
  readonly slots: GPUBuffer;
  /** Union lists and their slots per (tile width, stage depth), built on first use. */
  readonly unions: Map<string, { host: UnionRows; rows: GPUBuffer; slots: GPUBuffer }>;
}

/**
 * Weights held on the GPU by the WebGPU backend. Keeps the host arrays too, so that after a device loss the
 * next multiplication re-uploads them to the new device instead of failing forever.
 */
export class GpuWeights implements PreparedWeights {
  private resident: Resident | undefined;
  /** dispose() frees the buffers (and the widened copy's) after the last running call. */
  private readonly lastUse = new LastUse(
    () => this.free(),
    () => `Weights ${this.rows}×${this.cols} on ${this.backend}`,
  );
  /**
   * A widened copy of these weights (format `widenVectors`, V = 32) that calls run instead while A is finite
   * (WebGPUBackend `widen`); undefined when the backend keeps none.
   */
  wide: GpuWeights | undefined;

  constructor(
    readonly backend: string,
    readonly kind: 'nm' | 'dense',
    readonly rows: number,
    readonly cols: number,
    readonly pattern: NMPattern | undefined,
    /** Compressed values (keptRows × N) or dense B (K × N). */
    readonly hostValues: Float32Array,
    /** In-window offsets (keptRows × vectors), empty for dense. */
    readonly hostIndices: Uint8Array,
  ) {}

  /** Builds from compressed weights (already validated). */
  static fromCompressed(backend: string, weights: CompressedNM): GpuWeights {
    return new GpuWeights(backend, 'nm', weights.rows, weights.cols, { ...weights.pattern }, weights.values.slice(), weights.indices.slice());
  }

  /** Builds from a dense matrix (already validated). */
  static fromDense(backend: string, weights: DenseMatrix): GpuWeights {
    return new GpuWeights(backend, 'dense', weights.rows, weights.cols, undefined, weights.data.slice(), new Uint8Array(0));
  }

  get disposed(): boolean {
    return this.lastUse.disposed;
  }

  /** Device bytes held (values, indices, any union lists, and the widened copy's). */
  get bytes(): number {
    let total = this.hostValues.byteLength + Math.max(4, align4(this.hostIndices.byteLength));
    for (const u of this.resident?.unions.values() ?? []) total += u.rows.size + u.slots.size;
    return total + (this.wide?.bytes ?? 0);
  }

  /**
   * Runs `body` (a call on these weights) with the weights held: a dispose() meanwhile refuses new calls at once but
   * frees the buffers (the widened copy's too) only after the last running call, once the GPU is done with them.
   * The hold is taken synchronously, so a dispose() right after a call starts cannot pull the buffers from under it.
   * @throws {DisposedError} when the weights are already disposed.
   */
  holding<T>(body: () => Promise<T>): Promise<T> {
    return this.lastUse.holding(body);
  }

  /** The buffers on `context`'s device, uploading first if this device has not seen them. */
  upload(context: GpuContext): Resident {
    if (this.resident?.generation === context.generation) return this.resident;
    // After dispose() only a call holding the weights uploads (a device loss meanwhile), and its end frees the buffers.
    if (!this.lastUse.held) this.lastUse.assertLive();
    this.destroyBuffers();
    const device = context.device;
    const values = createFilled(device, this.hostValues, `${this.kind} B values ${this.rows}×${this.cols}`);
    const slots = createFilled(device, this.hostIndices, 'B indices');
    this.resident = { generation: context.generation, device, values, slots, unions: new Map() };
    return this.resident;
  }

  /** The union lists for a tile width and kept rows per stage on `context`'s device (union-row kernels). */
  unionRows(context: GpuContext, blockN: number, stage: StageRows) {
    const resident = this.upload(context);
    const key = `${blockN}/${stage.keptPerStage}`;
    let entry = resident.unions.get(key);
    if (!entry) {
      const host = buildUnionRows(this.hostIndices, this.rows, this.cols, this.pattern!, blockN, stage);
      entry = {
        host,
        rows: createFilled(context.device, host.rows, `union rows ${key}`),
        slots: createFilled(context.device, host.slots, `union slots ${key}`),
      };
      resident.unions.set(key, entry);
    }
    return entry;
  }

  /** Frees the buffers (and the widened copy's): at once for new calls, after the running ones for the GPU. Idempotent. */
  dispose(): void {
    this.lastUse.dispose();
  }

  private free(): void {
    this.destroyBuffers();
    this.wide?.dispose();
  }

  /** Destroys the resident buffers once the work already submitted to their device is done. */
  private destroyBuffers(): void {
    const r = this.resident;
    this.resident = undefined;
    if (!r) return;
    destroyWhenIdle(r.device, [r.values, r.slots, ...[...r.unions.values()].flatMap((u) => [u.rows, u.slots])]);
  }
}

/** A storage buffer holding `data` (padded to whole words; at least 4 bytes, WebGPU refuses empty bindings). */
export function createFilled(device: GPUDevice, data: ArrayBufferView, label: string, usage: number = BufferUsage.STORAGE): GPUBuffer {
  const size = Math.max(4, align4(data.byteLength));
  const buffer = device.createBuffer({ size, usage, mappedAtCreation: true, label });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}
