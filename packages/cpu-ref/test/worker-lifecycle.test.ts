import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NMError, randomDense } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import type { KernelJob } from '../src/kernels/kernel-job.js';
import { allocateFloats } from '../src/kernels/pack.js';
import { loadNodeBuiltins } from '../src/node-modules.js';
import { WorkerPool } from '../src/worker-pool.js';

const distWorker = new URL('../dist/worker.js', import.meta.url);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A 1×8 · 8×8 dense job in shared memory (B packed as one strip: the identity). */
function tinyJob(kernel: string): KernelJob {
  const packed = allocateFloats(64, true);
  for (let i = 0; i < 8; i++) packed[i * 8 + i] = 1;
  const a = allocateFloats(8, true);
  a.set([1, 2, 3, 4, 5, 6, 7, 8]);
  return {
    kernel: kernel as KernelJob['kernel'],
    m: 1, n: 8, k: 8, keep: 1, group: 1, vectorLength: 8, bRows: 8,
    tileRows: 4, tileCols: 8, stageRows: 8,
    a, c: allocateFloats(8, true), packed, rowTable: new Int32Array(new SharedArrayBuffer(0)),
  };
}

function runNode(file: string): { status: number | null; signal: string | null; output: string } {
  const result = spawnSync(process.execPath, [file], { timeout: 60_000, encoding: 'utf8' });
  return { status: result.status, signal: result.signal, output: `${result.stdout}${result.stderr}` };
}

describe('worker pool', () => {
  it('rejects a job a worker fails on with a DeviceError, then keeps working', async () => {
    const node = (await loadNodeBuiltins())!;
    const pool = await WorkerPool.start(node, 2, distWorker);
    try {
      await expect(pool.run(tinyJob('no-such-kernel'), 1)).rejects.toMatchObject({ code: 'DEVICE', message: /no-such-kernel/ });
      const job = tinyJob('gemm-dense-strips');
      await pool.run(job, 1);
      expect(Array.from(job.c)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await pool.dispose();
    }
  });

  it('rejects pending and later jobs when a worker dies, instead of hanging', async () => {
    const node = (await loadNodeBuiltins())!;
    const pool = await WorkerPool.start(node, 2, new URL(`file://${fixture('exiting-worker.mjs')}`));
    await expect(pool.run(tinyJob('gemm-dense-strips'), 2)).rejects.toMatchObject({ code: 'DEVICE', message: /exited with code 3/ });
    expect(pool.broken).toMatch(/exited with code 3/);
    await expect(pool.run(tinyJob('gemm-dense-strips'), 1)).rejects.toMatchObject({ code: 'DEVICE' });
    await pool.dispose();
  });

  it('settles a failed job only after every worker has replied, and stops the others early', async () => {
    // Settling at the first error would hand the job's shared A and C back for reuse while a worker still writes them.
    const node = (await loadNodeBuiltins())!;
    const pool = await WorkerPool.start(node, 2, new URL(`file://${fixture('uneven-worker.mjs')}`));
    try {
      const job = tinyJob('gemm-dense-strips');
      await expect(pool.run(job, 1000)).rejects.toMatchObject({ code: 'DEVICE', message: /the first tile failed/ });
      expect(job.c[0]).toBe(42); // the slow worker had finished before the job rejected
      expect(job.c[1]).toBe(1); // and it saw the tile counter pushed past the last tile
    } finally {
      await pool.dispose();
    }
  });

  it('refuses operands outside shared memory', async () => {
    const node = (await loadNodeBuiltins())!;
    const pool = await WorkerPool.start(node, 1, distWorker);
    try {
      await expect(pool.run({ ...tinyJob('gemm-dense-strips'), c: new Float32Array(8) }, 1)).rejects.toThrow(/C is not in shared memory/);
    } finally {
      await pool.dispose();
    }
  });

  it('runs from a lone copy of dist/worker.js (self-contained, as a bundler would place it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmkit-worker-'));
    copyFileSync(fileURLToPath(distWorker), join(dir, 'worker.js'));
    const cpu = await createCpuBackend({ threads: 2, parallelThreshold: 0, workerUrl: join(dir, 'worker.js') });
    try {
      const weights = await cpu.prepareDense({ rows: 2, cols: 2, data: Float32Array.of(1, 2, 3, 4) });
      const c = await cpu.matmul({ rows: 1, cols: 2, data: Float32Array.of(1, 1) }, weights);
      expect(Array.from(c.data)).toEqual([4, 6]);
    } finally {
      await cpu.dispose();
    }
  });

  it('reports a missing worker script as unavailable, with the fix', async () => {
    const error = await createCpuBackend({ threads: 2, workerUrl: '/nonexistent/worker.js' }).catch((e: unknown) => e);
    expect(NMError.isInstance(error) && error.code).toBe('UNAVAILABLE');
    expect(String(error)).toMatch(/nonexistent\/worker\.js.*threads: 1/);
  });
});

describe('cpu backend lifecycle', () => {
  it('dispose() rejects a product in flight and every later call', async () => {
    const cpu = await createCpuBackend({ threads: 2, parallelThreshold: 0 });
    const weights = await cpu.prepareDense(randomDense(512, 256, 2));
    const outcome = expect(cpu.matmul(randomDense(256, 512, 1), weights)).rejects.toMatchObject({ code: 'DISPOSED' });
    await cpu.dispose();
    await outcome;
    await expect(cpu.matmul(randomDense(2, 512, 1), weights)).rejects.toMatchObject({ code: 'DISPOSED' });
    await cpu.dispose(); // idempotent
  });

  it.each(['forget-dispose.mjs', 'forget-dispose.cjs'])('the built dist (%s) runs on workers and exits without dispose()', (file) => {
    const { status, signal, output } = runNode(fixture(file));
    expect(signal, output).toBeNull();
    expect(status, output).toBe(0);
    expect(output).toMatch(/2 worker threads ok/);
  });

  it('the built dist exits cleanly after dispose() in flight', () => {
    const { status, signal, output } = runNode(fixture('dispose-in-flight.mjs'));
    expect(signal, output).toBeNull();
    expect(status, output).toBe(0);
    expect(output.trim()).toBe('DISPOSED');
  });

  it('the built entry points load no node: module statically (browser bundles stay importable)', () => {
    for (const file of ['index.js', 'index.cjs']) {
      const code = readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8');
      expect(code).not.toMatch(/^\s*import[^;]*from\s*["']node:/m);
      expect(code).not.toMatch(/require\(["']node:/);
    }
  });
});
