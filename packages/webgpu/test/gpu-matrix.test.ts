import {
  type DenseMatrix,
  DeviceError,
  type DeviceMatrix,
  LimitError,
  type NMError,
  type NMPattern,
  nmPattern,
  type PreparedWeights,
  randomCompressed,
  randomDense,
  referenceDense,
  referenceSpmm,
} from '@nmkit/format';
import { describe, expect, it, vi } from 'vitest';
import { createWebGPUBackend, GpuMatrix, type WebGPUBackend } from '../src/index.js';
import { expectClose, gpuBackendPerFile } from './gpu-backend.js';

// WebGPU specifics of device-resident activations (the conformance suite's device/* cases run the contract).
// Widening as in production ('auto'): element-wise layers run their widened copy and its finite check of A.
const gpu = gpuBackendPerFile({});

const STORAGE = 0x80;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;

/** The index of the first value whose bits differ (NaN payloads and -0 included), or -1. */
function firstBitDifference(got: Float32Array, expected: Float32Array): number {
  if (got.length !== expected.length) return Math.min(got.length, expected.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  return g.findIndex((bits, i) => bits !== e[i]);
}

/** Copies `bytes` from the start of `buffer` with a pipeline of the test's own (interop: the buffer as documented). */
async function readRaw(device: GPUDevice, buffer: GPUBuffer, bytes: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: bytes, usage: 0x1 | COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(0x1);
  const data = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return data;
}

async function errorOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('GpuMatrix', () => {
  it('upload(): a STORAGE | COPY_SRC | COPY_DST buffer holding A row-major, read() exactly rows·cols values, bit for bit', async () => {
    const backend = gpu();
    if (!backend) return;
    const a = randomDense(7, 13, 1);
    a.data[2 * 13 + 5] = Number.NaN;
    a.data[6 * 13 + 12] = -0;
    const x = await backend.upload(a);
    try {
      expect(x).toBeInstanceOf(GpuMatrix);
      const buffer = x.buffer;
      expect(buffer.usage & (STORAGE | COPY_SRC | COPY_DST)).toBe(STORAGE | COPY_SRC | COPY_DST);
      expect(buffer.size).toBe(7 * 13 * 4);
      expect(x.bytes).toBe(buffer.size);
      // The documented layout, read by the test's own copy: element (r, c) at r·cols + c.
      const raw = await readRaw(await backend.gpuDevice(), buffer, 7 * 13 * 4);
      expect(raw[2 * 13 + 5]).toBeNaN();
      expect(firstBitDifference(raw, a.data)).toBe(-1);
      const read = await x.read();
      expect(read.rows).toBe(7);
      expect(read.cols).toBe(13);
      expect(read.data).toBeInstanceOf(Float32Array);
      expect(read.data.length).toBe(7 * 13);
      expect(read.data.buffer.byteLength).toBe(7 * 13 * 4);
      expect(firstBitDifference(read.data, a.data)).toBe(-1);
      expect(Object.is(read.data[6 * 13 + 12], -0)).toBe(true);
    } finally {
      x.dispose();
    }
    expect(x.bytes).toBe(0);
    expect(() => x.buffer).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });

  it('values written into the buffer by your own commands are what the next matmulDevice() reads', async () => {
    const backend = gpu();
    if (!backend) return;
    const sparse = randomCompressed(64, 24, nmPattern(2, 4, 4), 2);
    const weights = await backend.prepare(sparse);
    const x = await backend.upload(randomDense(5, 64, 3));
    try {
      const replacement = randomDense(5, 64, 4);
      (await backend.gpuDevice()).queue.writeBuffer(x.buffer, 0, replacement.data);
      const y = await backend.matmulDevice(x, weights);
      expectClose(await y.read(), referenceSpmm(replacement, sparse), 64, 'C of the rewritten A');
      y.dispose();
    } finally {
      x.dispose();
      weights.dispose();
    }
  });

  it('a product padded past rows·cols (wave-tail partials after C) reads back exactly rows·cols values and chains as A', async () => {
    const backend = gpu();
    if (!backend) return;
    const pattern = nmPattern(16, 32, 32);
    const first = randomCompressed(300, 200, pattern, 5);
    const second = randomCompressed(200, 40, nmPattern(8, 32, 4), 6);
    const [w1, w2] = [await backend.prepare(first), await backend.prepare(second)];
    const a = randomDense(150, 300, 7);
    const x = await backend.upload(a);
    const checked = backend.check({ m: 150, n: 200, k: 300 }, pattern);
    if (!checked.ok) throw new Error(checked.reason);
    const plan = { ...checked.plan, splitK: 1 };
    backend.kernelOptions = { tail: { rows: 2, splits: 3 } };
    try {
      const h = await backend.matmulDevice(x, w1, { plan });
      expect(backend.lastKernel).toMatch(/ tail 2×3$/);
      expect(h.buffer.size).toBeGreaterThan(150 * 200 * 4);
      const hostH = await backend.matmul(a, w1, { plan });
      const readH = await h.read();
      expect(readH.data.length).toBe(150 * 200);
      expect(firstBitDifference(readH.data, hostH.data)).toBe(-1);
      // The next layer binds exactly M·K floats of the padded buffer: the same bits as the host path on hostH.
      const y = await backend.matmulDevice(h, w2);
      expect(firstBitDifference((await y.read()).data, (await backend.matmul(hostH, w2)).data)).toBe(-1);
      h.dispose();
      y.dispose();
    } finally {
      backend.kernelOptions = {};
      x.dispose();
      w1.dispose();
      w2.dispose();
    }
  });

  it.each([
    // [what, M, layers (K, N, pattern; undefined: dense weights), NaN in A]
    ['decode rows (stream kernels with split-K, sparse and dense)', 12, [[96, 128, nmPattern(8, 32, 32)], [128, 60, nmPattern(2, 4, 1)], [60, 36, undefined]], false],
    ['tiled kernels, a widened element-wise layer, dense weights', 70, [[96, 128, nmPattern(16, 32, 32)], [128, 64, nmPattern(2, 4, 1)], [64, 33, nmPattern(3, 7, 4)], [33, 20, undefined]], false],
    ['a NaN in A: the widened layer reruns on the original weights', 40, [[64, 48, nmPattern(2, 4, 1)], [48, 16, nmPattern(4, 8, 4)]], true],
  ] as [string, number, [number, number, NMPattern | undefined][], boolean][])(
    'a chain of matmulDevice() calls has the bits of the host matmul() chain: %s',
    async (_, m, layers, nan) => {
      const backend = gpu();
      if (!backend) return;
      const prepared: PreparedWeights[] = [];
      let host: DenseMatrix = randomDense(m, layers[0][0], m);
      if (nan) host.data[3 * layers[0][0] + 9] = Number.NaN;
      let x: DeviceMatrix = await backend.upload(host);
      try {
        for (const [i, [k, n, pattern]] of layers.entries()) {
          const weights = pattern ? await backend.prepare(randomCompressed(k, n, pattern, 10 + i)) : await backend.prepareDense(randomDense(k, n, 10 + i));
          prepared.push(weights);
          const y = await backend.matmulDevice(x, weights);
          const deviceKernel = backend.lastKernel;
          x.dispose();
          x = y;
          const expected = await backend.matmul(host, weights);
          expect(backend.lastKernel, `layer ${i}: the same kernel`).toBe(deviceKernel);
          const got = await y.read();
          expect(firstBitDifference(got.data, expected.data), `layer ${i}: first value whose bits differ`).toBe(-1);
          if (nan && i === 0) {
            // The original weights ran (pruned rows skipped): row 3 keeps finite values where row 9 was pruned.
            expect(deviceKernel).not.toBe((await backend.describeKernel({ m, n, k }, weights)).name);
            expect(Array.from(got.data.subarray(3 * n, 4 * n)).some(Number.isFinite)).toBe(true);
            expect(Array.from(got.data.subarray(3 * n, 4 * n)).some(Number.isNaN)).toBe(true);
          }
          host = expected;
        }
      } finally {
        x.dispose();
        for (const w of prepared) w.dispose();
      }
    },
  );

  it('dispose() while calls run: new calls refused at once, the buffer destroyed only after the running ones submitted', async () => {
    const backend = gpu();
    if (!backend) return;
    const sparse = randomCompressed(256, 64, nmPattern(4, 32, 32), 20);
    const weights = await backend.prepare(sparse);
    const a = randomDense(33, 256, 21);
    const x = await backend.upload(a);
    const destroy = vi.spyOn(x.buffer, 'destroy');
    try {
      const running = backend.matmulDevice(x, weights);
      const reading = x.read();
      x.dispose();
      expect(x.disposed).toBe(true);
      expect(destroy).not.toHaveBeenCalled();
      expect(() => x.buffer).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
      expect(((await errorOf(() => backend.matmulDevice(x, weights))) as NMError).code).toBe('DISPOSED');
      expect(((await errorOf(() => x.read())) as NMError).code).toBe('DISPOSED');
      const [y, readA] = await Promise.all([running, reading]);
      expect(x.bytes).toBe(0);
      // Destroyed once the GPU has done the work queued on it.
      await vi.waitFor(() => expect(destroy).toHaveBeenCalledTimes(1));
      expect(firstBitDifference(readA.data, a.data)).toBe(-1);
      // C may be disposed while the next layer, started first, runs on it.
      const dense = randomDense(64, 8, 22);
      const denseWeights = await backend.prepareDense(dense);
      const next = backend.matmulDevice(y, denseWeights);
      y.dispose();
      const z = await next;
      denseWeights.dispose();
      expectClose(await z.read(), referenceDense(await backend.matmul(a, weights), dense), 64, 'C of the next layer');
      z.dispose();
      x.dispose(); // idempotent
      expect(destroy).toHaveBeenCalledTimes(1);
    } finally {
      destroy.mockRestore();
      weights.dispose();
    }
  });

  it('backend.dispose() disposes the live matrices it made (on a device of your own the buffers are destroyed)', async () => {
    const backend = gpu();
    if (!backend) return;
    const created = await createWebGPUBackend({ device: await backend.gpuDevice() });
    if (!created.available) throw new Error(created.reason);
    const own = created.backend as WebGPUBackend;
    const weights = await own.prepare(randomCompressed(32, 16, nmPattern(2, 4, 4), 30));
    const x = await own.upload(randomDense(3, 32, 31));
    const y = await own.matmulDevice(x, weights);
    const early = await own.upload(randomDense(2, 32, 32));
    const spies = [x, y, early].map((m) => vi.spyOn(m.buffer, 'destroy'));
    early.dispose();
    // A matrix of another backend on the same device is an ordinary operand.
    const shared = await backend.prepare(randomCompressed(16, 8, nmPattern(1, 2, 1), 33));
    const z = await backend.matmulDevice(y, shared);
    expect((await z.read()).data.length).toBe(3 * 8);
    await own.dispose();
    expect([x.disposed, y.disposed, early.disposed, z.disposed]).toEqual([true, true, true, false]);
    await vi.waitFor(() => expect(spies.map((spy) => spy.mock.calls.length)).toEqual([1, 1, 1]));
    expect(((await errorOf(() => own.upload(randomDense(1, 1, 34)))) as NMError).code).toBe('DISPOSED');
    z.dispose();
    shared.dispose();
  });

  it('after a device loss: one DeviceError, then matrices of the lost device are refused with a DeviceError naming the loss', async () => {
    const created = await createWebGPUBackend();
    if (!created.available) {
      if (!gpu()) return;
      throw new Error(created.reason);
    }
    const own = created.backend as WebGPUBackend;
    try {
      const weights = await own.prepare(randomCompressed(32, 16, nmPattern(2, 4, 4), 40));
      const x = await own.upload(randomDense(3, 32, 41));
      const device = await own.gpuDevice();
      device.destroy();
      await device.lost;
      const reported = await errorOf(() => own.matmulDevice(x, weights));
      expect(reported).toBeInstanceOf(DeviceError);
      expect((reported as DeviceError).message).toMatch(/device was lost/);
      const refused = await errorOf(() => own.matmulDevice(x, weights));
      expect(refused).toBeInstanceOf(DeviceError);
      expect((refused as DeviceError).message).toMatch(/device matrix A \(3×32\) lived on a GPU device that was lost/);
      const read = await errorOf(() => x.read());
      expect(read).toBeInstanceOf(DeviceError);
      expect((read as DeviceError).message).toMatch(/was lost .*contents are gone/);
      // Uploaded again, it runs on the new device with the same weights.
      const again = await own.upload(randomDense(3, 32, 41));
      const y = await own.matmulDevice(again, weights);
      expectClose(await y.read(), referenceSpmm(randomDense(3, 32, 41), randomCompressed(32, 16, nmPattern(2, 4, 4), 40)), 32, 'C on the new device');
      x.dispose();
      again.dispose();
      y.dispose();
      weights.dispose();
    } finally {
      await own.dispose();
    }
  });

  it('refuses before any GPU work: an over-limit upload (LimitError naming the size and the limit), a look-alike matrix (ShapeError)', async () => {
    const backend = gpu();
    if (!backend) return;
    const limit = backend.capabilities.limits.maxBufferBytes;
    const cols = 1024;
    const rows = Math.floor(limit / 4 / cols) + 1;
    // A fake data array that claims rows·cols values: upload() must refuse it before reading any.
    const data = new Float32Array(4);
    Object.defineProperty(data, 'length', { value: rows * cols });
    Object.defineProperty(data, 'byteLength', { value: rows * cols * 4 });
    const error = await errorOf(() => backend.upload({ rows, cols, data }));
    expect(error).toBeInstanceOf(LimitError);
    expect((error as LimitError).message).toContain(`A ${rows}×${cols}: ${rows * cols * 4} bytes exceed its largest buffer of ${limit} bytes`);
    expect((error as LimitError).fix).toMatch(/blocks of rows/);
    const weights = await backend.prepare(randomCompressed(16, 8, nmPattern(2, 4, 4), 50));
    try {
      const real = await backend.upload(randomDense(2, 16, 51));
      const lookalike = { kind: 'device-matrix', backend: 'webgpu', rows: 2, cols: 16, bytes: 128, disposed: false, read: () => real.read(), dispose() {}, buffer: real.buffer } as DeviceMatrix;
      const refused = await errorOf(() => backend.matmulDevice(lookalike, weights));
      expect((refused as NMError).code).toBe('SHAPE');
      expect((refused as NMError).message).toMatch(/not made by upload\(\) or matmulDevice\(\)/);
      real.dispose();
    } finally {
      weights.dispose();
    }
  });

  it('a call that fails on the GPU destroys every buffer it made (C included) and reports a DeviceError', async () => {
    const backend = gpu();
    if (!backend) return;
    const device = await backend.gpuDevice();
    const x = await backend.upload(randomDense(40, 64, 60));
    const made: GPUBuffer[] = [];
    const destroyed = new Set<GPUBuffer>();
    const create = device.createBuffer.bind(device);
    const createBuffer = vi.spyOn(device, 'createBuffer').mockImplementation((descriptor) => {
      const buffer = create(descriptor);
      made.push(buffer);
      const destroy = buffer.destroy.bind(buffer);
      buffer.destroy = () => {
        destroyed.add(buffer);
        destroy();
      };
      return buffer;
    });
    const submit = vi.spyOn(device.queue, 'submit');
    try {
      for (const pattern of [nmPattern(8, 32, 32), nmPattern(2, 4, 1)]) {
        const weights = await backend.prepare(randomCompressed(64, 48, pattern, 61));
        // A first call builds what the weights keep (union lists, pipelines); the second fails at its submission.
        (await backend.matmulDevice(x, weights)).dispose();
        made.length = 0;
        submit.mockImplementationOnce(() => {
          throw new Error('injected submit failure');
        });
        const error = await errorOf(() => backend.matmulDevice(x, weights));
        weights.dispose();
        expect(error).toBeInstanceOf(DeviceError);
        expect((error as DeviceError).message).toMatch(/GPU work failed: injected submit failure/);
        expect(made.map((b) => b.label)).toContain('C 40×48');
        await vi.waitFor(() => expect(made.filter((b) => !destroyed.has(b)).map((b) => b.label)).toEqual([]));
      }
    } finally {
      submit.mockRestore();
      createBuffer.mockRestore();
      x.dispose();
    }
  });
});
