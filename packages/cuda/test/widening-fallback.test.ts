import { DeviceError, DisposedError, nmPattern, randomCompressed, randomDense } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { standIn } from './stand-in-addon.js';

// The backend's routing of widened copies (the real addon's refusal of a non-finite A is checked on the H100 by
// `device-run.js widen`).

describe('widened copies: routing (stand-in addon)', () => {
  const sparse = randomCompressed(64, 8, nmPattern(2, 4), 3);

  it('uploads the original and the copy; above 16 rows the copy runs with finiteA, at 16 the original without', async () => {
    const { backend, uploads, calls } = standIn();
    const w = await backend.prepare(sparse);
    expect(uploads.map((u) => u.vectorLength)).toEqual([1, 32]);
    expect(w.bytes).toBe(uploads[0].values.byteLength + uploads[1].values.byteLength);
    await backend.matmul(randomDense(17, 64, 1), w);
    await backend.matmul(randomDense(16, 64, 1), w);
    expect(calls.map((c) => [c.handle, c.plan.finiteA ?? 0])).toEqual([[1, 1], [0, 0]]);
  });

  it('reruns on the original weights with their own plan when the addon refuses a non-finite A', async () => {
    const { backend, calls } = standIn({ refuse: -2 });
    const w = await backend.prepare(sparse);
    const c = await backend.matmul(randomDense(40, 64, 1), w);
    expect(calls.map((call) => [call.handle, call.plan.finiteA ?? 0])).toEqual([[1, 1], [0, 0]]);
    expect(calls[1].plan.kernel).toBe(2); // the streaming kernel: the original has no tiled layout
    expect(c.data[0]).toBe(1); // the original's result
  });

  it('frees weights disposed mid-call only after the call, the rerun on the original included', async () => {
    const { backend, calls, weights: handles } = standIn({ refuse: -2 });
    const w = await backend.prepare(sparse);
    const pending = backend.matmul(randomDense(40, 64, 1), w);
    w.dispose();
    expect(w.disposed).toBe(true);
    expect(handles.map((h) => h.freed)).toEqual([false, false]);
    expect((await pending).data[0]).toBe(1); // the original's result, after the copy was refused
    expect(calls.map((c) => c.handle)).toEqual([1, 0]);
    expect(handles.map((h) => h.freed)).toEqual([true, true]);
    await expect(backend.matmul(randomDense(40, 64, 1), w)).rejects.toThrow(DisposedError);
  });

  it('reports any other failure of the copy as a DeviceError instead of rerunning', async () => {
    const { backend, calls } = standIn({ refuse: 700 });
    const w = await backend.prepare(sparse);
    await expect(backend.matmul(randomDense(40, 64, 1), w)).rejects.toThrow(DeviceError);
    expect(calls).toHaveLength(1);
  });

  it('keeps the weights without a copy when the copy does not fit on the device', async () => {
    const { backend, uploads, calls } = standIn({ failWideUpload: true });
    const w = await backend.prepare(sparse);
    expect(w.wide).toBeUndefined();
    expect(uploads).toHaveLength(1);
    await backend.matmul(randomDense(40, 64, 1), w);
    expect(calls.map((c) => c.handle)).toEqual([0]);
  });
});
