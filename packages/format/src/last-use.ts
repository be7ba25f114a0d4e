import type { NMBackend } from './backend.js';
import { DisposedError } from './errors.js';

/**
 * Dispose-after-last-use bookkeeping for a backend's device objects (weights, device matrices): `dispose()` refuses
 * new calls at once, and `free` runs when the last call already holding the object has ended, so a dispose() right
 * after a call starts never pulls buffers from under it (the contract of {@link NMBackend.matmulDevice}).
 * @example
 * private readonly lastUse = new LastUse(() => this.buffer.destroy(), () => `Weights ${this.rows}×${this.cols}`);
 * matmul(...) { return this.lastUse.holding(async () => { ... }); }   // held from the synchronous start of the call
 */
export class LastUse {
  private released = false;
  private uses = 0;

  constructor(
    /** Frees the device memory; runs once. */
    private readonly free: () => void,
    /** What the object is, for the DisposedError ("Weights 64×8 on cuda"). */
    private readonly what: () => string,
    private readonly fix?: string,
  ) {}

  get disposed(): boolean {
    return this.released;
  }

  /** Whether a call holds the object now. */
  get held(): boolean {
    return this.uses > 0;
  }

  /** @throws {DisposedError} after dispose(). */
  assertLive(): void {
    if (this.released) throw new DisposedError(this.what(), this.fix);
  }

  /**
   * Runs `body` with the object held. The hold is taken synchronously, before `body`'s first await.
   * @throws {DisposedError} when the object is already disposed.
   */
  async holding<T>(body: () => Promise<T>): Promise<T> {
    this.assertLive();
    this.uses++;
    try {
      return await body();
    } finally {
      this.uses--;
      if (this.released && this.uses === 0) this.free();
    }
  }

  /** Marks the object disposed; frees it now unless calls hold it. Returns false when it already was. */
  dispose(): boolean {
    if (this.released) return false;
    this.released = true;
    if (this.uses === 0) this.free();
    return true;
  }
}
