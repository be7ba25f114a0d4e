import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuReferenceProvider } from '@nmkit/cpu-ref';
import { BackendRegistry, nmPattern, randomCompressed, randomDense } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { addonCandidates, createCudaBackend, createCudaProvider, cudaProvider, diagnoseProbe, loadAddon, type NativeProbe } from '../src/index.js';

const noDevice: NativeProbe = {
  ok: false,
  errorCode: 35,
  error: 'CUDA driver version is insufficient for CUDA runtime version',
  deviceCount: 0,
  driverVersion: 0,
  runtimeVersion: 13000,
  name: '',
  computeCapability: '0.0',
  multiprocessors: 0,
  sharedPerBlockOptin: 0,
  maxThreadsPerBlock: 0,
  totalMemory: 0,
};

describe('cuda availability', () => {
  it('imports without throwing and create() resolves either way', async () => {
    const module = await import('../src/index.js');
    const got = await module.cudaProvider.create();
    expect(module.cudaProvider.priority).toBe(300);
    if (got.available) {
      expect(got.backend.name).toBe('cuda');
      await got.backend.dispose();
    } else {
      expect(got.reason.length).toBeGreaterThan(10);
      expect(got.fix?.length ?? 0).toBeGreaterThan(10);
    }
  });

  it('reports the no-driver path (cudaGetDeviceCount error 35) as unavailable, with a fix', () => {
    const problem = diagnoseProbe(noDevice);
    expect(problem?.reason).toContain('35');
    expect(problem?.reason).toContain('driver');
    expect(problem?.fix).toMatch(/driver|webgpu|cpu/);
    expect(diagnoseProbe({ ...noDevice, ok: true, errorCode: 0, error: '', name: 'Old GPU', computeCapability: '7.5' })?.reason).toContain('7.5');
    expect(diagnoseProbe({ ...noDevice, ok: true, errorCode: 0, error: '', name: 'H100', computeCapability: '9.0' })).toBeUndefined();
    const pastEnd = diagnoseProbe({ ...noDevice, errorCode: 0, error: 'no CUDA device with index 3', deviceCount: 2 });
    expect(pastEnd?.reason).toBe('no CUDA device with index 3 (2 visible)');
    expect(pastEnd?.fix).toMatch(/from 0 to 1/);
  });

  it('a device index that is not an integer ≥ 0 is an unavailability with the fix, before the addon loads', async () => {
    for (const device of [-1, 1.5, Number.NaN]) {
      const got = await createCudaBackend({ device });
      expect(got.available).toBe(false);
      if (got.available) continue;
      expect(got.reason).toBe(`options.device=${device} is not a device index`);
      expect(got.fix).toMatch(/integer ≥ 0/);
    }
    expect(createCudaProvider({ device: 1 })).toMatchObject({ name: 'cuda', priority: 300 });
  });

  it('an unknown staging mode is an unavailability naming it and the modes, before the addon loads', async () => {
    const got = await createCudaBackend({ staging: 'gather' as 'auto' });
    expect(got.available).toBe(false);
    if (got.available) return;
    expect(got.reason).toBe('options.staging=gather is not a staging mode');
    expect(got.fix).toMatch(/'auto'.*'union'.*'per-vector'/);
  });

  it('an unknown widening mode is an unavailability naming it and the modes, before the addon loads', async () => {
    const got = await createCudaBackend({ widen: 'sometimes' as 'auto' });
    expect(got.available).toBe(false);
    if (got.available) return;
    expect(got.reason).toBe('options.widen=sometimes is not a widening mode');
    expect(got.fix).toMatch(/'auto'.*'always'.*'never'/);
  });

  it('diagnoses a missing addon with every path it tried', () => {
    const load = loadAddon(['/nonexistent/a/nmkit_cuda.node', '/nonexistent/b/nmkit_cuda.node']);
    expect(load.ok).toBe(false);
    if (load.ok) return;
    expect(load.reason).toContain('not built');
    expect(load.reason).toContain('/nonexistent/b/nmkit_cuda.node');
    expect(load.fix).toContain('NMKIT_CUDA_ADDON');
    expect(load.attempts).toHaveLength(2);
  });

  it('diagnoses a file that is not a loadable addon', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmkit-cuda-'));
    const bogus = join(dir, 'nmkit_cuda.node');
    writeFileSync(bogus, 'not an ELF file');
    const load = loadAddon([bogus]);
    expect(load.ok).toBe(false);
    if (!load.ok) expect(load.reason).toContain(bogus);
  });

  it('build-native skips cleanly (exit 0, message) when nvcc is absent', () => {
    const script = resolve(__dirname, '..', 'scripts', 'build-native.mjs');
    const run = spawnSync(process.execPath, [script, '--force'], {
      env: { ...process.env, CUDA_HOME: '/nonexistent-cuda', CUDA_PATH: '', NMKIT_CUDA_REQUIRE_BUILD: '' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('nvcc not found at /nonexistent-cuda/bin/nvcc');
  });

  it('puts NMKIT_CUDA_ADDON first among the candidates', () => {
    const list = addonCandidates({ NMKIT_CUDA_ADDON: '/opt/custom/nmkit_cuda.node' });
    expect(list[0]).toBe('/opt/custom/nmkit_cuda.node');
    expect(list.some((p) => p.endsWith(join('build', 'Release', 'nmkit_cuda.node')))).toBe(true);
  });

  it('leaves other backends usable: a registry falls through to cpu-ref and keeps the reason', async () => {
    const registry = new BackendRegistry().register(cudaProvider).register(cpuReferenceProvider);
    const { backend, skipped } = await registry.resolve();
    if (backend.name === 'cuda') return await backend.dispose(); // a machine with a GPU
    expect(backend.name).toBe('cpu-ref');
    const cuda = skipped.find((s) => s.name === 'cuda');
    expect(cuda?.available).toBe(false);
    expect(cuda?.reason?.length).toBeGreaterThan(10);
    const sparse = randomCompressed(64, 40, nmPattern(2, 4, 32), 3);
    const c = await backend.matmul(randomDense(3, 64, 4), await backend.prepare(sparse));
    expect(c.data.length).toBe(3 * 40);
  });
});

// Where nvcc exists (CI has it), the package's build script must have produced a loadable addon.
const nvcc = join(process.env.CUDA_HOME ?? '/usr/local/cuda', 'bin', 'nvcc');
describe.skipIf(!existsSync(nvcc) || process.env.NMKIT_CUDA_SKIP_BUILD === '1')('native addon built with nvcc', () => {
  it('exists in build/Release, loads, and probes without throwing', () => {
    const built = resolve(__dirname, '..', 'build', 'Release', 'nmkit_cuda.node');
    expect(existsSync(built), `${built} missing: run "pnpm --filter @nmkit/cuda run build"`).toBe(true);
    const load = loadAddon([built]);
    expect(load.ok, load.ok ? '' : load.reason).toBe(true);
    if (!load.ok) return;
    expect(load.addon.build.architectures).toContain('sm_90');
    const probe = load.addon.probe(0);
    expect(typeof probe.ok).toBe('boolean');
    if (!probe.ok) expect(diagnoseProbe(probe)?.reason).toContain(String(probe.errorCode));
  });
});
