import { BackendUnavailableError, DeviceError, LimitError, NMError, randomCompressed, randomDense, referenceSpmm } from '@nmkit/format';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWebGPUBackend, NoGpuError, pipelineKey, scoped, throwIfFailed, type WebGPUBackend } from '../src/index.js';
import { gpuBackendPerFile } from './gpu-backend.js';

const gpu = gpuBackendPerFile();

const pattern = { keep: 2, group: 4, vectorLength: 4 };

describe('device behaviour', () => {
  it('device loss: one clear DeviceError, then the next call recovers on a new device with the same weights', async () => {
    const backend = gpu();
    if (!backend) return;
    const sparse = randomCompressed(64, 40, pattern, 1);
    const a = randomDense(9, 64, 2);
    const weights = await backend.prepare(sparse);
    const expected = Array.from((await backend.matmul(a, weights)).data);
    const lostDevice = await backend.gpuDevice();
    lostDevice.destroy();
    await lostDevice.lost;
    const failure = await backend.matmul(a, weights).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeviceError);
    expect((failure as DeviceError).message).toMatch(/device was lost .*destroyed/);
    expect((failure as DeviceError).fix).toMatch(/call again/);
    const again = await backend.matmul(a, weights);
    expect(await backend.gpuDevice()).not.toBe(lostDevice);
    expect(Array.from(again.data)).toEqual(expected);
    weights.dispose();
  });

  it('device lost while work is in flight: DeviceError, then recovery', async () => {
    const backend = gpu();
    if (!backend) return;
    const sparse = randomCompressed(256, 256, pattern, 3);
    const a = randomDense(128, 256, 4);
    const weights = await backend.prepare(sparse);
    const device = await backend.gpuDevice();
    const inFlight = backend.matmul(a, weights);
    device.destroy();
    const failure = await inFlight.catch((error: unknown) => error);
    // Dawn may finish the work before the destroy lands; either way nothing else than a correct C or a DeviceError.
    if (failure instanceof Error) expect(NMError.isInstance(failure) && failure.code).toBe('DEVICE');
    const c = await backend.matmul(a, weights);
    const ref = referenceSpmm(a, sparse);
    expect(Math.abs(c.data[5] - ref.values[5])).toBeLessThan(1e-3);
    weights.dispose();
  });

  it('a caller-supplied GPUDevice is used and never destroyed by dispose()', async () => {
    const backend = gpu();
    if (!backend) return;
    const device = await backend.gpuDevice();
    const result = await createWebGPUBackend({ device });
    expect(result.available).toBe(true);
    if (!result.available) return;
    const own = result.backend as WebGPUBackend;
    expect(await own.gpuDevice()).toBe(device);
    const sparse = randomCompressed(32, 8, pattern, 5);
    const a = randomDense(3, 32, 6);
    const w = await own.prepare(sparse);
    expect((await own.matmul(a, w)).data.length).toBe(24);
    w.dispose();
    await own.dispose();
    // Still alive: the first backend keeps working on it.
    const w2 = await backend.prepare(sparse);
    expect((await backend.matmul(a, w2)).data.length).toBe(24);
    w2.dispose();
  });

  it('buffers over the device binding limit are refused with a LimitError naming the sizes', async () => {
    const backend = gpu();
    if (!backend) return;
    const limit = backend.capabilities.limits.maxBufferBytes;
    const k = 4096;
    const n = Math.ceil(limit / 4 / k) + 64; // dense B over the limit
    const check = backend.check({ m: 1, n, k }, undefined);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/operand B needs \d+ bytes, over webgpu's buffer limit/);
    const tooWide = { rows: 1, cols: 8, data: new Float32Array(8) };
    // prepare() refuses before touching the device; a fake 1-row matrix whose byteLength we inflate is enough.
    Object.defineProperty(tooWide.data, 'byteLength', { value: limit + 4 });
    const error = await backend.prepareDense(tooWide).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitError);
    expect((error as LimitError).message).toMatch(/exceed the device's largest storage binding/);
  });

  it('a malformed forced plan is a LimitError naming its fields, before anything reaches the GPU', async () => {
    const backend = gpu();
    if (!backend) return;
    const high = { keep: 1, group: 8, vectorLength: 4 };
    const sparse = randomCompressed(64, 16, high, 9);
    const a = randomDense(4, 64, 10);
    const weights = await backend.prepare(sparse);
    const plan = backend.check({ m: 4, n: 16, k: 64 }, high);
    if (!plan.ok) throw new Error(plan.reason);
    // block.n = 0 once sent the union-list builder into an endless loop (Math.ceil(n / 0) column blocks).
    for (const [forced, message] of [
      [{ ...plan.plan, variant: 'high-sparsity', block: { ...plan.plan.block, n: 0 } }, /block\.n=0 must be an integer ≥ 1/],
      [{ ...plan.plan, splitK: Number.NaN, block: { ...plan.plan.block, m: -64 } }, /block\.m=-64 .*splitK=NaN/],
      [{ ...plan.plan, variant: 'sparse' }, /variant "sparse" is not one of/],
    ] as const) {
      const error = await backend.matmul(a, weights, { plan: forced as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitError);
      expect((error as LimitError).message).toMatch(message);
    }
    // A well-formed high-sparsity plan the tiled kernel cannot express (block.n = 2: not whole vec4 columns) builds no
    // union lists, runs on the general kernel and is right.
    const odd = { ...plan.plan, variant: 'high-sparsity' as const, block: { ...plan.plan.block, n: 2 }, thread: { m: 4, n: 2 } };
    expect((await backend.describeKernel({ m: 4, n: 16, k: 64 }, weights, odd)).spec.shader).toBe('general');
    const c = await backend.matmul(a, weights, { plan: odd });
    expect(backend.lastKernel).toBe('spmm-nm-general');
    const ref = referenceSpmm(a, sparse);
    for (let i = 0; i < c.data.length; i++) expect(Math.abs(c.data[i] - ref.values[i])).toBeLessThan(1e-4);
    weights.dispose();
  });

  it('WebGPU validation errors inside a scoped submission become a DeviceError with Dawn\'s message', async () => {
    const backend = gpu();
    if (!backend) return;
    const device = await backend.gpuDevice();
    // A uniform buffer bound as storage: invalid usage, caught by the validation scope.
    const errors = scoped(device, () => {
      const buffer = device.createBuffer({ size: 16, usage: 0x40 });
      const encoder = device.createCommandEncoder();
      encoder.clearBuffer(buffer);
      device.queue.submit([encoder.finish()]);
      buffer.destroy();
    });
    const error = await throwIfFailed(errors).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceError);
    expect((error as DeviceError).message).toMatch(/webgpu: WebGPU validation failed: .+/);
    // A clean submission passes.
    await throwIfFailed(scoped(device, () => device.queue.submit([])));
  });

  it('no Vulkan driver: real Dawn finds no adapter and createWebGPUBackend reports the reason, without throwing', () => {
    // A separate process, because Dawn reads the driver list once per process: the built package (turbo builds
    // before testing) with the Vulkan loader pointed at a driver file that does not exist.
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `import { createWebGPUBackend, releaseNodeGpu } from ${JSON.stringify(entry)};
      const r = await createWebGPUBackend();
      if (r.available) await r.backend.dispose();
      releaseNodeGpu();
      console.log(JSON.stringify({ available: r.available, reason: r.reason, fix: r.fix }));`;
    const missing = '/nonexistent/nmkit-no-driver.json';
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, VK_DRIVER_FILES: missing, VK_ICD_FILENAMES: missing, VK_ADD_DRIVER_FILES: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(result).toMatchObject({ available: false, reason: expect.stringMatching(/no WebGPU adapter/), fix: expect.stringMatching(/lavapipe/) });
  });

  it('no GPU (acquireGpu, createGpuContext) is a typed BackendUnavailableError with its reason and fix', () => {
    const error = new NoGpuError('no WebGPU adapter', 'install a Vulkan driver');
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(NMError.isInstance(error) && error.code).toBe('UNAVAILABLE');
    expect(error).toMatchObject({ backend: 'webgpu', reason: 'no WebGPU adapter', fix: 'install a Vulkan driver' });
    expect(error.message).toBe('Backend "webgpu" is unavailable: no WebGPU adapter. Fix: install a Vulkan driver');
  });

  it('pipeline cache key encodes every specialisation', () => {
    expect(pipelineKey('tiled', { BM: 64, BN: 128, UNION: true })).toBe('tiled{BM=64,BN=128,UNION=true}');
    expect(pipelineKey('tiled', { BN: 128, BM: 64 })).toBe(pipelineKey('tiled', { BM: 64, BN: 128 }));
    expect(pipelineKey('tiled', { BM: 64, UNION: true })).not.toBe(pipelineKey('tiled', { BM: 64, UNION: false }));
  });

  it('time() reports per-run samples from the device clock when the adapter has timestamp queries', async () => {
    const backend = gpu();
    if (!backend) return;
    const weights = await backend.prepare(randomCompressed(128, 128, { keep: 8, group: 32, vectorLength: 32 }, 7));
    const timing = await backend.time(randomDense(80, 128, 8), weights, { warmup: 1, repeats: 4 });
    weights.dispose();
    expect(timing.samplesMs).toHaveLength(4);
    expect(timing.clock).toBe(backend.capabilities.timing);
    expect(timing.minMs).toBeGreaterThan(0);
    expect(timing.plan?.variant).toBe('high-sparsity');
  });
});
