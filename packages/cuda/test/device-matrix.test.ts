import { DisposedError, LimitError, nmPattern, randomCompressed, randomDense, ShapeError } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { CudaMatrix } from '../src/index.js';
import { standIn } from './stand-in-addon.js';

// Device-resident A and C (upload, matmulDevice, read) against the stand-in addon: validation before the addon,
// routing of widened copies, and ownership. The real addon runs the conformance `device/*` cases on the H100.

describe('device matrices (stand-in addon)', () => {
  const sparse = randomCompressed(64, 8, nmPattern(2, 4), 3);

  it('uploads a copy, reads it back, and chains matmulDevice without host arrays', async () => {
    const { backend, calls, matrices } = standIn();
    const w = await backend.prepare(randomCompressed(64, 8, nmPattern(8, 32, 32), 4));
    const a = randomDense(5, 64, 1);
    const x = await backend.upload(a);
    expect(x).toBeInstanceOf(CudaMatrix);
    expect([x.rows, x.cols, x.bytes, x.backend]).toEqual([5, 64, 5 * 64 * 4, 'cuda']);
    const first = a.data[0];
    a.data[0] = 7; // the device copy was taken at upload
    expect((await x.read()).data[0]).toBe(first);
    const y = await backend.matmulDevice(x, w);
    expect([y.rows, y.cols]).toEqual([5, 8]);
    expect(calls).toEqual([expect.objectContaining({ handle: 0, device: true })]);
    expect(Array.from((await y.read()).data)).toEqual(new Array(40).fill(1));
    y.dispose();
    expect(matrices[1].freed).toBe(true);
    await expect(y.read()).rejects.toThrow(DisposedError);
  });

  it('runs the widened copy above 16 rows and reruns on the original when the addon refuses a non-finite A', async () => {
    const { backend, calls } = standIn({ refuse: -2 });
    const w = await backend.prepare(sparse);
    const y = await backend.matmulDevice(await backend.upload(randomDense(40, 64, 1)), w);
    expect(calls.map((c) => [c.handle, c.plan.finiteA ?? 0, c.device])).toEqual([
      [1, 1, true],
      [0, 0, true],
    ]);
    expect((await y.read()).data[0]).toBe(1); // the original's result
  });

  it('validates every operand before the addon sees the call', async () => {
    const { backend, calls } = standIn();
    const w = await backend.prepare(sparse);
    const host = randomDense(3, 64, 1);
    await expect(backend.matmulDevice(host as unknown as CudaMatrix, w)).rejects.toThrow(/upload/);
    const narrow = await backend.upload(randomDense(3, 63, 1));
    await expect(backend.matmulDevice(narrow, w)).rejects.toThrow(ShapeError);
    await expect(backend.matmulDevice(narrow, w)).rejects.toThrow(/3×63/);
    const x = await backend.upload(host);
    x.dispose();
    await expect(backend.matmulDevice(x, w)).rejects.toThrow(DisposedError);
    await expect(backend.upload({ rows: 2, cols: 3, data: new Float32Array(5) })).rejects.toThrow(ShapeError);
    expect(calls).toHaveLength(0);
  });

  it('keeps A disposed mid-call until the call ends, through the rerun on the original weights', async () => {
    const { backend, calls, matrices } = standIn({ refuse: -2 });
    const w = await backend.prepare(sparse);
    const x = await backend.upload(randomDense(40, 64, 1));
    const pending = backend.matmulDevice(x, w);
    x.dispose();
    expect(x.disposed).toBe(true);
    expect(matrices[0].freed).toBe(false);
    const y = await pending;
    expect(calls.map((c) => c.handle)).toEqual([1, 0]);
    expect((await y.read()).data[0]).toBe(1);
    expect(matrices[0].freed).toBe(true);
    await expect(x.read()).rejects.toThrow(DisposedError);
  });

  it("refuses another cuda backend's device matrix and weights (the name alone does not tell GPUs apart)", async () => {
    const first = standIn();
    const second = standIn();
    const w = await first.backend.prepare(sparse);
    const x = await second.backend.upload(randomDense(3, 64, 1));
    await expect(first.backend.matmulDevice(x, w)).rejects.toThrow(/not made by upload\(\) or matmulDevice\(\) of this backend/);
    await expect(second.backend.matmulDevice(x, w)).rejects.toThrow(/another cuda backend/);
    expect([...first.calls, ...second.calls]).toHaveLength(0);
  });

  it('frees a result that arrives after the backend was disposed, and says so', async () => {
    const { backend, matrices } = standIn();
    const pending = backend.upload(randomDense(2, 64, 1));
    await backend.dispose();
    await expect(pending).rejects.toThrow(DisposedError);
    expect(matrices.map((m) => m.freed)).toEqual([true]);
  });

  it('turns on small calls on the JS thread only when asked (inlineSmallCalls), and validates the option', async () => {
    const { createCudaBackend } = await import('../src/index.js');
    const got = await createCudaBackend({ inlineSmallCalls: 'yes' as unknown as boolean });
    expect(got.available).toBe(false);
    expect(!got.available && got.reason).toMatch(/inlineSmallCalls=yes is not a boolean/);
    for (const on of [false, true]) {
      const { backend } = standIn({ inlineSmallCalls: on });
      expect((backend as unknown as { context: { inline: boolean } }).context.inline).toBe(on);
    }
  });

  it('refuses an A larger than the largest device buffer with a LimitError naming both sizes', async () => {
    const { backend } = standIn({ totalMemory: 2 ** 12 }); // largest buffer: half the memory, 2048 bytes
    await expect(backend.upload(randomDense(9, 64, 1))).rejects.toThrow(LimitError);
    await expect(backend.upload(randomDense(9, 64, 1))).rejects.toThrow(/2304 bytes.*2048/);
    await expect(backend.upload(randomDense(9, 64, 1))).rejects.toThrow(/A 9×64/);
  });

  it("times a chain's layouts only when asked (TimingOptions.input), and refuses an unknown input before the addon", async () => {
    const { backend, timings } = standIn();
    const w = await backend.prepare(randomCompressed(64, 8, nmPattern(8, 32, 32), 4));
    const a = randomDense(5, 64, 1);
    expect((await backend.time(a, w, { repeats: 2 })).medianMs).toBe(0.5);
    await backend.time(a, w, { repeats: 3, input: 'device-matrix' });
    await backend.time(a, w, { repeats: 1, input: 'dense-matrix' });
    expect(timings.map((t) => [t.repeats, t.deviceInput])).toEqual([
      [2, false],
      [3, true],
      [1, false],
    ]);
    await expect(backend.time(a, w, { input: 'host' as never })).rejects.toThrow(LimitError);
    expect(timings).toHaveLength(3);
  });

  it('plans the narrow kernel on Aᵀ for a device matrix from 8 rows, and on row-major A for a host one', async () => {
    const { backend, calls } = standIn();
    const w = await backend.prepare(randomCompressed(64, 64, nmPattern(8, 32, 32), 4));
    const a = randomDense(8, 64, 1);
    await backend.matmul(a, w);
    const x = await backend.upload(a);
    (await backend.matmulDevice(x, w)).dispose();
    await backend.time(a, w, { repeats: 1, warmup: 0, input: 'device-matrix' });
    expect(calls.map((c) => c.plan.kernel)).toEqual([4, 5, 5]);
  });

  it('frees every live device matrix when the backend is disposed', async () => {
    const { backend, matrices } = standIn();
    const x = await backend.upload(randomDense(2, 64, 1));
    await backend.upload(randomDense(2, 64, 2));
    await backend.dispose();
    expect(matrices.map((m) => m.freed)).toEqual([true, true]);
    expect(x.disposed).toBe(true);
    await expect(backend.upload(randomDense(2, 64, 1))).rejects.toThrow(DisposedError);
  });
});
