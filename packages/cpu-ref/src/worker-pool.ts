import type { Worker } from 'node:worker_threads';
import { DeviceError, DisposedError } from '@nmkit/format';
import type { KernelJob } from './kernels/kernel-job.js';
import type { NodeBuiltins } from './node-modules.js';
import type { JobMessage, WorkerReply } from './worker-protocol.js';

interface PendingJob {
  /** Workers that have not replied yet: the job settles only when every one has (none still touches its arrays). */
  remaining: number;
  /** The job's tile counter: set past the last tile when a worker fails, so the others stop early. */
  readonly counter: Int32Array;
  readonly tiles: number;
  /** The first worker error, if any: the job rejects with it once every worker has replied. */
  error?: Error;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Persistent worker threads that share one job at a time (or several, queued in order): every worker takes
 * tiles of C from a shared atomic counter until none are left. Workers are unref'd while idle, so a process
 * that forgets {@link WorkerPool.dispose} still exits; they are ref'd while a job runs so the process waits
 * for its result.
 * @example const pool = await WorkerPool.start(node, 2, workerUrl); await pool.run(job, tiles); await pool.dispose();
 */
export class WorkerPool {
  private readonly pending = new Map<number, PendingJob>();
  private nextId = 1;
  private closed = false;
  /** Why the pool can no longer run jobs (a worker died), if it cannot. */
  broken: string | undefined;

  private constructor(private readonly workers: Worker[]) {
    workers.forEach((worker, index) => {
      worker.on('message', (reply: WorkerReply) => this.onReply(reply));
      worker.on('error', (error) => this.fail(`worker thread ${index} threw: ${error.message}`));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(`worker thread ${index} exited with code ${code}`);
      });
    });
  }

  /**
   * Spawns `size` workers from `workerUrl` and waits until each has loaded.
   * @throws {Error} when a worker cannot load (missing file, syntax error); all spawned workers are terminated.
   */
  static async start(node: NodeBuiltins, size: number, workerUrl: URL): Promise<WorkerPool> {
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < size; i++) workers.push(new node.workerThreads.Worker(workerUrl, { name: `nmkit-cpu-${i}` }));
      await Promise.all(workers.map((worker, i) => waitReady(worker, i)));
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    for (const worker of workers) worker.unref();
    return new WorkerPool(workers);
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Runs tiles `0 … tiles−1` of `job` on the workers. Every array of the job must live in a SharedArrayBuffer.
   * @throws {DeviceError} when a worker reports an error or dies; {@link DisposedError} after dispose().
   */
  run(job: KernelJob, tiles: number): Promise<void> {
    if (this.closed) return Promise.reject(new DisposedError('The cpu backend worker pool'));
    if (this.broken) return Promise.reject(new DeviceError('cpu', this.broken, 'create a new backend.'));
    for (const [name, array] of [['A', job.a], ['C', job.c], ['B', job.packed], ['row table', job.rowTable]] as const) {
      if (!(array.buffer instanceof SharedArrayBuffer)) {
        return Promise.reject(new DeviceError('cpu', `operand ${name} is not in shared memory; workers cannot see it.`));
      }
    }
    const id = this.nextId++;
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const used = Math.max(1, Math.min(this.workers.length, tiles));
    if (this.pending.size === 0) for (const worker of this.workers) worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { remaining: used, counter, tiles, resolve, reject });
      const message: JobMessage = { id, job, counter, tiles };
      for (let i = 0; i < used; i++) this.workers[i].postMessage(message);
    });
  }

  /** Terminates every worker; jobs still running reject with {@link DisposedError}. Idempotent. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settleAll(new DisposedError('The cpu backend worker pool'));
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type === 'ready') return;
    const job = this.pending.get(reply.id);
    if (!job) return; // already failed or disposed
    if (reply.type === 'error') {
      job.error ??= new DeviceError('cpu', `a worker thread failed: ${reply.message}`);
      Atomics.store(job.counter, 0, job.tiles);
    }
    // Settle only when every worker has replied: rejecting on the first error would hand the job's shared A and C
    // back for reuse while other workers still write tiles into them.
    if (--job.remaining > 0) return;
    this.finish(reply.id);
    if (job.error) job.reject(job.error);
    else job.resolve();
  }

  private finish(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0 && !this.closed) for (const worker of this.workers) worker.unref();
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.broken ??= reason;
    this.settleAll(new DeviceError('cpu', reason, 'create a new backend; if it persists, use threads: 1.'));
  }

  private settleAll(error: Error): void {
    const jobs = [...this.pending.values()];
    this.pending.clear();
    for (const job of jobs) job.reject(error);
    if (!this.closed) for (const worker of this.workers) worker.unref();
  }
}

function waitReady(worker: Worker, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: WorkerReply) => {
      if (reply.type === 'ready') done(undefined);
    };
    const onError = (error: Error) => done(new Error(`worker thread ${index} failed to load: ${error.message}`));
    const onExit = (code: number) => done(new Error(`worker thread ${index} exited with code ${code} while loading`));
    const done = (error: Error | undefined) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
