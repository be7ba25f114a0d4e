import type { KernelJob } from './kernels/kernel-job.js';

/**
 * Main thread → worker: one job. Typed arrays over SharedArrayBuffers are posted as views on the same memory
 * (structured clone shares, never copies, a SharedArrayBuffer); `counter` hands out tiles (Atomics.add).
 */
export interface JobMessage {
  readonly id: number;
  readonly job: KernelJob;
  readonly counter: Int32Array;
  readonly tiles: number;
}

/** Worker → main thread. */
export type WorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly tilesRun: number }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
