import {
  type CompressedNM,
  DisposedError,
  denseMatrix,
  LimitError,
  nmPattern,
  randomCompressed,
  randomDense,
  ShapeError,
} from '@nmkit/format';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CpuBackend, CpuReferenceBackend, createCpuBackend, createCpuProvider, MAX_CPU_THREADS } from '../src/index.js';
import { WorkerPool } from '../src/worker-pool.js';

const sparse = () => randomCompressed(16, 8, nmPattern(2, 4, 4), 3);

describe('createCpuBackend threads', () => {
  // Without the check, Infinity or 1e9 would spawn workers until memory runs out: fail cleanly instead.
  let start: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    start = vi.spyOn(WorkerPool, 'start').mockRejectedValue(new Error('a worker pool was started'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([Number.POSITIVE_INFINITY, Number.NaN, 0, -2, 1.5, 1e9, MAX_CPU_THREADS + 1])(
    'refuses threads=%s with a LimitError before starting any worker',
    async (threads) => {
      const error = await createCpuBackend({ threads }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitError);
      expect((error as Error).message).toContain(`threads=${threads} is not an integer in [1, ${MAX_CPU_THREADS}]`);
      expect(start).not.toHaveBeenCalled();
    },
  );

  it('reports the bad option as unavailable through the provider', async () => {
    const result = await createCpuProvider({ threads: Number.POSITIVE_INFINITY }).create();
    expect(result.available).toBe(false);
    expect(!result.available && result.reason).toMatch(/threads=Infinity/);
    expect(start).not.toHaveBeenCalled();
  });
});

describe.each([
  ['cpu', () => createCpuBackend({ threads: 1 })],
  ['cpu-ref', async () => new CpuReferenceBackend()],
] as const)('%s backend input checks', (_, create) => {
  let backend: CpuBackend | CpuReferenceBackend;
  beforeAll(async () => {
    backend = await create();
  });
  afterAll(() => backend.dispose());

  it('time() validates A like matmul() does (a ShapeError, not a TypeError)', async () => {
    const weights = await backend.prepare(sparse());
    await expect(backend.time(null as never, weights as never)).rejects.toThrow(ShapeError);
    await expect(backend.time(null as never, weights as never)).rejects.toThrow(/Operand A must be a DenseMatrix/);
    await expect(backend.time(randomDense(2, 15), weights as never)).rejects.toThrow(ShapeError);
  });

  it.each([{ repeats: 0 }, { repeats: 1.5 }, { warmup: -1 }])('time() refuses %o instead of returning a NaN median', async (options) => {
    const weights = await backend.prepare(sparse());
    await expect(backend.time(randomDense(2, 16), weights as never, options)).rejects.toThrow(LimitError);
  });

  it('time() runs the contract defaults: 3 warm-up runs and 10 timed ones', async () => {
    const weights = await backend.prepare(sparse());
    const matmul = vi.spyOn(backend, 'matmul');
    const result = await backend.time(randomDense(2, 16), weights as never);
    expect(result.samplesMs).toHaveLength(10);
    expect(matmul).toHaveBeenCalledTimes(13);
    expect(Number.isFinite(result.medianMs)).toBe(true);
    matmul.mockRestore();
  });

  it('refuses an empty A (M = 0) with a ShapeError naming the shapes, not a LimitError', async () => {
    const weights = await backend.prepare(sparse());
    const error = await backend.matmul(denseMatrix(0, 16), weights as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as Error).message).toMatch(/A 0×16 by B 16×8: M=0, but every dimension of C = A·B must be an integer ≥ 1/);
  });
});

describe.each([
  ['cpu', () => createCpuBackend({ threads: 1 })],
  ['cpu-ref', async () => new CpuReferenceBackend()],
] as const)('%s backend device matrices', (_, create) => {
  it('are disposed with the backend, as on the device backends', async () => {
    const backend = await create();
    const weights = await backend.prepare(sparse());
    const x = await backend.upload(randomDense(2, 16));
    const y = await backend.matmulDevice(x, weights as never);
    x.dispose(); // already gone: the backend's dispose() must not trip over it
    await backend.dispose();
    expect([x.disposed, y.disposed]).toEqual([true, true]);
    await expect(y.read()).rejects.toThrow(DisposedError);
  });
});

describe('cpu backend prepare', () => {
  it('refuses weights over its buffer limit with a LimitError', async () => {
    const cpu = await createCpuBackend({ threads: 1 });
    try {
      // One kept row of 2²⁹ columns: 2³¹ bytes of B, one over the 2³¹ − 1 limit (the zero pages are never touched).
      const cols = 2 ** 29;
      const huge: CompressedNM = {
        rows: 4,
        cols,
        pattern: { keep: 1, group: 4, vectorLength: cols },
        values: new Float32Array(cols),
        indices: Uint8Array.of(0),
      };
      const error = await cpu.prepare(huge).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitError);
      expect((error as Error).message).toMatch(/operand B needs 2147483648 bytes, over cpu's buffer limit/);
    } finally {
      await cpu.dispose();
    }
  });
});

describe('cpu-ref dispose', () => {
  it('makes prepare, prepareDense, matmul and time throw DisposedError, as the contract says', async () => {
    const ref = new CpuReferenceBackend();
    const weights = await ref.prepare(sparse());
    const a = randomDense(2, 16);
    await ref.matmul(a, weights);
    await ref.dispose();
    await ref.dispose(); // idempotent
    await expect(ref.prepare(sparse())).rejects.toThrow(DisposedError);
    await expect(ref.prepareDense(randomDense(16, 8))).rejects.toThrow(DisposedError);
    await expect(ref.matmul(a, weights)).rejects.toThrow(DisposedError);
    await expect(ref.time(a, weights)).rejects.toThrow(DisposedError);
    expect(ref.check({ m: 2, n: 8, k: 16 }, nmPattern(2, 4, 4)).ok).toBe(true); // check() never throws
  });
});
