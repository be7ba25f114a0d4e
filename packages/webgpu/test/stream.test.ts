import { candidatePlans, type MatmulShape, type NMPattern, randomCompressed, randomDense, referenceDense, referenceSpmm } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { type KernelOptions, type StreamOptions, streamDefaultRows, streamProblem, streamSpec } from '../src/index.js';
import { expectClose, expectPoisonHarmless, gpuBackendPerFile } from './gpu-backend.js';

// The stream kernel (spmm-nm-stream.wgsl, M ≤ 64): every size option forced on ragged shapes, each result checked
// against the float64 reference; its sizing rule and where it does not run.
const gpu = gpuBackendPerFile();

const h100 = {
  limits: { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 },
  maxWorkgroupsPerDimension: 65535,
  maxBindingBytes: 2 ** 31,
  multiprocessors: 132,
};

/** One product under `options` (reset afterwards): the kernel's name. */
async function run(shape: MatmulShape, pattern: NMPattern | undefined, seed: number, options: KernelOptions = {}) {
  const backend = gpu()!;
  const a = randomDense(shape.m, shape.k, seed);
  const sparse = pattern && randomCompressed(shape.k, shape.n, pattern, seed + 1);
  const dense = pattern ? undefined : randomDense(shape.k, shape.n, seed + 1);
  const weights = sparse ? await backend.prepare(sparse) : await backend.prepareDense(dense!);
  backend.kernelOptions = options;
  try {
    const c = await backend.matmul(a, weights);
    expectClose(c, sparse ? referenceSpmm(a, sparse) : referenceDense(a, dense!), shape.k, `${shape.m}×${shape.n}×${shape.k} ${JSON.stringify(pattern)} ${JSON.stringify(options)}`);
    return backend.lastKernel ?? '';
  } finally {
    backend.kernelOptions = {};
    weights.dispose();
  }
}

describe('stream kernel sizing (no GPU)', () => {
  it('about 1024 invocations per compute unit in 16–64 ranges of whole chunks, no empty grid slice; row groups of 4; Aᵀ from 3 rows of C', () => {
    const p16 = { keep: 16, group: 32, vectorLength: 32 };
    const small = streamSpec({ m: 1, n: 4096, k: 4096 }, p16, h100);
    // 32 column blocks of 128 (1024 invocations): 64 ranges → 8 slices × 8 splits of 32 kept rows (2048 in all).
    expect([small.constants.SLICES, small.splitK, small.stagesPerSplit, small.stages, small.grid]).toEqual([8, 8, 32, 2048, [32, 1, 8]]);
    expect(small.constants.ATRANS).toBe(false);
    expect(small.name).toBe('spmm-nm-stream 1×128 (8 slices of 32 kept rows, chunk 8) split-K 8');
    // 16 rows: four row groups of 4 per column quad (256 invocations in two slices), A transposed; 24576 invocations
    // per range already, so the fewest ranges (16).
    const wide = streamSpec({ m: 16, n: 24576, k: 8192 }, p16, h100);
    expect([wide.constants.RG, wide.constants.RI, wide.constants.SLICES, wide.splitK, wide.stagesPerSplit, wide.transposed]).toEqual([4, 4, 2, 8, 256, { rows: 8192, quads: 4 }]);
    expect(wide.plan).toMatchObject({ variant: 'decode', block: { m: 16, n: 128 }, thread: { m: 4, n: 4 }, threads: 256, splitK: 8 });
    expect(wide.name).toBe('spmm-nm-stream 16×128 (4 row groups, 2 slices of 256 kept rows, chunk 8, Aᵀ) split-K 8');
    // 4096 invocations per range at M = 16, N = 4096: 32 ranges.
    const mid = streamSpec({ m: 16, n: 4096, k: 4096 }, p16, h100);
    expect([mid.constants.SLICES * mid.splitK, mid.stagesPerSplit]).toEqual([32, 64]);
    expect([1, 2, 3].map((m) => streamSpec({ m, n: 4096, k: 4096 }, p16, h100).constants.ATRANS)).toEqual([false, false, true]);
    // Few kept rows: ranges of at least two chunks (4:32 at K = 256: 32 kept rows → two ranges of 16).
    const short = streamSpec({ m: 4, n: 128, k: 256 }, { keep: 4, group: 32, vectorLength: 32 }, h100);
    expect([short.constants.SLICES * short.splitK, short.stagesPerSplit]).toEqual([2, 16]);
    // Aᵀ must fit one binding too: else A is read row-major.
    expect(streamSpec({ m: 16, n: 64, k: 1 << 20 }, p16, { ...h100, maxBindingBytes: (1 << 26) - 4 }, { transposeA: true }).constants.ATRANS).toBe(false);
    // Partials must fit one binding: split-K shrinks.
    const tight = streamSpec({ m: 16, n: 4096, k: 4096 }, p16, { ...h100, maxBindingBytes: 16 * 4096 * 4 * 3 });
    expect(tight.splitK).toBeLessThanOrEqual(3);
    // A device of 64 invocations per workgroup (CPU drivers): two slices at most.
    const cpu = { ...h100, limits: { ...h100.limits, maxThreadsPerBlock: 64 } };
    expect(streamSpec({ m: 2, n: 512, k: 4096 }, p16, cpu).constants.SLICES).toBe(2);
    // 13 rows there: four row groups × 16 column quads, one slice.
    const tall = streamSpec({ m: 13, n: 512, k: 4096 }, p16, cpu).constants;
    expect([tall.RG, tall.QUADS, tall.SLICES, tall.WG]).toEqual([4, 16, 1, 64]);
  });

  it('the default up to 64 rows of C for dense B, 48 for N:M below 1/2 density, 24 from 1/2; fewer ranges beyond 16 rows', () => {
    expect([undefined, { keep: 8, group: 32, vectorLength: 32 }, { keep: 4, group: 32, vectorLength: 32 }, { keep: 12, group: 32, vectorLength: 32 }, { keep: 2, group: 4, vectorLength: 4 }, { keep: 16, group: 32, vectorLength: 32 }].map(streamDefaultRows)).toEqual([64, 48, 48, 48, 24, 24]);
    // 64 × 4096: 16 row groups in 16-quad workgroups (one slice); 9 ranges fill the GPU, at least 256 / 64 = 4.
    const spec = streamSpec({ m: 64, n: 4096, k: 4096 }, { keep: 8, group: 32, vectorLength: 32 }, h100);
    expect([spec.constants.RG, spec.constants.QUADS, spec.constants.SLICES, spec.splitK]).toEqual([16, 16, 1, 9]);
    expect(streamSpec({ m: 64, n: 24576, k: 8192 }, undefined, h100).splitK).toBe(4);
    // Beyond 16 rows a grid of 1–1.5 waves of 5.5 workgroups per compute unit is trimmed to one (run 58): 24 × 11008 in
    // 86 column blocks takes 8 ranges, not 10; 48 × 11008 in 172 takes 4, not 5 (64 × 24576 above: 1536, over 1.5 waves).
    const p12 = { keep: 12, group: 32, vectorLength: 32 };
    expect([24, 48, 64].map((m) => streamSpec({ m, n: 11008, k: 4096 }, p12, h100)).map((s) => [s.grid[0], s.splitK])).toEqual([
      [86, 8],
      [172, 4],
      [172, 4],
    ]);
  });

  it('names why it cannot run: M over 16 (or 64), N not a multiple of 4', () => {
    expect(streamProblem({ m: 17, n: 64, k: 64 }, 256)).toMatch(/M = 17 is outside 1–16/);
    expect(streamProblem({ m: 17, n: 64, k: 64 }, 256, 64)).toBeUndefined();
    expect(streamProblem({ m: 65, n: 64, k: 64 }, 256, 1000)).toMatch(/M = 65 is outside 1–64/);
    expect(streamProblem({ m: 4, n: 66, k: 64 }, 256)).toMatch(/N = 66/);
    expect(streamProblem({ m: 4, n: 64, k: 64 }, 256)).toBeUndefined();
    expect(streamProblem({ m: 20, n: 64, k: 64 }, 16, 64)).toMatch(/fewer than the 5 row groups/);
  });
});

describe('stream kernel (M ≤ 64)', () => {
  it.each([
    ['16:32 V=32, M = 1, default sizes', { m: 1, n: 256, k: 320 }, { keep: 16, group: 32, vectorLength: 32 }, {}],
    ['4:8 V=4, ragged K, 2 slices, split-K 3, chunk 5', { m: 3, n: 300, k: 203 }, { keep: 4, group: 8, vectorLength: 4 }, { slices: 2, splitK: 3, chunk: 5 }],
    ['17:64 V=8 (odd keep), Aᵀ, chunk 4', { m: 8, n: 132, k: 300 }, { keep: 17, group: 64, vectorLength: 8 }, { chunk: 4, splitK: 2 }],
    ['128:256 V=64, M = 13, Aᵀ', { m: 13, n: 200, k: 600 }, { keep: 128, group: 256, vectorLength: 64 }, { slices: 2 }],
    ['8:32 V=32, M = 16, row-major A, one slice, chunk 16', { m: 16, n: 96, k: 1000 }, { keep: 8, group: 32, vectorLength: 32 }, { transposeA: false, slices: 1, chunk: 16, splitK: 2 }],
    ['2:4 V=4, M = 5, Aᵀ, chunk 1', { m: 5, n: 64, k: 90 }, { keep: 2, group: 4, vectorLength: 4 }, { transposeA: true, chunk: 1 }],
    // V not a multiple of 4: an index and A values per column (vectors straddle an invocation's 4 columns).
    ['2:4 V=1 (element-wise), M = 1, ragged K', { m: 1, n: 132, k: 102 }, { keep: 2, group: 4, vectorLength: 1 }, {}],
    ['2:4 V=1, M = 7, Aᵀ, split-K 3', { m: 7, n: 68, k: 90 }, { keep: 2, group: 4, vectorLength: 1 }, { splitK: 3 }],
    ['3:7 V=6, M = 13, row-major A, chunk 5', { m: 13, n: 100, k: 301 }, { keep: 3, group: 7, vectorLength: 6 }, { transposeA: false, chunk: 5 }],
    ['16:32 V=2, M = 4, Aᵀ', { m: 4, n: 36, k: 200 }, { keep: 16, group: 32, vectorLength: 2 }, { transposeA: true }],
  ] as const)('%s', async (_, shape, pattern, stream: StreamOptions) => {
    const backend = gpu();
    if (!backend) return;
    const kernel = await run(shape, pattern, 61, { stream });
    expect(kernel).toMatch(new RegExp(`^spmm-nm-stream ${shape.m}×(128|64) `));
    if (stream.splitK) expect(kernel).toMatch(new RegExp(`split-K ${stream.splitK}$`));
    expect(kernel.includes('Aᵀ')).toBe(stream.transposeA ?? shape.m >= 3);
  });

  it.each([
    [7, 100, 77],
    [16, 64, 300],
  ])('dense B at M = %i (the dense baseline streams too)', async (m, n, k) => {
    const backend = gpu();
    if (!backend) return;
    expect(await run({ m, n, k }, undefined, 71, { stream: { splitK: 2 } })).toMatch(/^matmul-dense-stream /);
  });

  it('a forced plan runs tiled unless it is the plan check() reports or the options ask for the stream kernel; `tiled` turns it off', async () => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m: 4, n: 128, k: 256 };
    const pattern = { keep: 8, group: 32, vectorLength: 32 };
    const weights = await backend.prepare(randomCompressed(shape.k, shape.n, pattern, 81));
    try {
      // check() reports the stream kernel's plan, and that plan forced runs it; the planner's decode plan runs tiled.
      const check = backend.check(shape, pattern);
      expect(check.ok && check.plan).toMatchObject({ variant: 'decode', thread: { m: 4, n: 4 } });
      const reported = check.ok ? check.plan : undefined;
      const tiled = candidatePlans(shape, pattern, backend.plannerLimits)[0];
      expect((await backend.describeKernel(shape, weights)).name).toMatch(/^spmm-nm-stream /);
      expect((await backend.describeKernel(shape, weights, reported)).name).toMatch(/^spmm-nm-stream /);
      expect((await backend.describeKernel(shape, weights, tiled)).name).toMatch(/^spmm-nm-decode /);
      backend.kernelOptions = { decodeKernel: 'stream' };
      expect((await backend.describeKernel(shape, weights, tiled)).name).toMatch(/^spmm-nm-stream /);
      backend.kernelOptions = { decodeKernel: 'tiled' };
      expect((await backend.describeKernel(shape, weights)).name).toMatch(/^spmm-nm-decode /);
      expect((await backend.describeKernel(shape, weights, reported)).name).toMatch(/^spmm-nm-decode /);
      // Where it does not run by default: N not a multiple of 4, V not a multiple of 4, M over 48 (8:32).
      backend.kernelOptions = {};
      expect((await backend.describeKernel({ ...shape, n: 126 }, weights)).name).not.toMatch(/stream/);
      expect((await backend.describeKernel({ ...shape, m: 48 }, weights)).name).toMatch(/^spmm-nm-stream 48×/);
      expect((await backend.describeKernel({ ...shape, m: 49 }, weights)).name).not.toMatch(/stream/);
      backend.kernelOptions = { decodeKernel: 'stream' };
      expect((await backend.describeKernel({ ...shape, m: 64 }, weights)).name).toMatch(/^spmm-nm-stream 64×/);
      expect((await backend.describeKernel({ ...shape, m: 65 }, weights)).name).not.toMatch(/stream/);
    } finally {
      backend.kernelOptions = {};
      weights.dispose();
    }
    // V = 6 streams (an index per column) where N is a multiple of 4; N = 62 is not.
    const six = await backend.prepare(randomCompressed(64, 60, { keep: 2, group: 4, vectorLength: 6 }, 82));
    expect((await backend.describeKernel({ m: 2, n: 60, k: 64 }, six)).name).toMatch(/^spmm-nm-stream /);
    six.dispose();
    const odd = await backend.prepare(randomCompressed(64, 62, { keep: 2, group: 4, vectorLength: 6 }, 82));
    expect((await backend.describeKernel({ m: 2, n: 62, k: 64 }, odd)).name).not.toMatch(/stream/);
    odd.dispose();
    // Asked for, it runs up to 64 rows whatever the density (16:32's default stops at 24).
    const half = await backend.prepare(randomCompressed(256, 128, { keep: 16, group: 32, vectorLength: 32 }, 83));
    const tall = { m: 40, n: 128, k: 256 };
    expect((await backend.describeKernel(tall, half)).name).not.toMatch(/stream/);
    backend.kernelOptions = { decodeKernel: 'stream' };
    expect((await backend.describeKernel(tall, half)).name).toMatch(/^spmm-nm-stream 40×/);
    backend.kernelOptions = {};
    half.dispose();
  });

  it.each([
    [37, { transposeA: true, splitK: 2 }],
    [64, { transposeA: false }],
  ] as const)('up to 64 rows of C (%i) as a forced kernel: row groups of 4 beyond decode', async (m, stream) => {
    const backend = gpu();
    if (!backend) return;
    const shape = { m, n: 72, k: 200 };
    const pattern = { keep: 8, group: 32, vectorLength: 8 };
    const a = randomDense(shape.m, shape.k, 95);
    const sparse = randomCompressed(shape.k, shape.n, pattern, 96);
    const weights = await backend.prepare(sparse);
    const check = backend.check(shape, pattern);
    if (!check.ok) throw new Error(check.reason);
    backend.kernelOptions = { decodeKernel: 'stream', stream };
    try {
      const c = await backend.matmul(a, weights, { plan: check.plan });
      expect(backend.lastKernel).toMatch(new RegExp(`^spmm-nm-stream ${m}×\\d+ \\(${Math.ceil(m / 4)} row groups`));
      expectClose(c, referenceSpmm(a, sparse), shape.k, `forced stream M = ${m}`);
    } finally {
      backend.kernelOptions = {};
      weights.dispose();
    }
  });

  it.each([
    [false, { m: 6, n: 8, k: 64 }, { keep: 4, group: 32, vectorLength: 4 }],
    [true, { m: 6, n: 8, k: 64 }, { keep: 4, group: 32, vectorLength: 4 }],
    // K = 40: the last window has 8 real rows and keeps 12, so kept rows fall in the K padding (a read of A there
    // would land on the next row's poisoned entries); V = 1 reads them per column.
    [false, { m: 6, n: 4, k: 40 }, { keep: 12, group: 32, vectorLength: 4 }],
    [true, { m: 6, n: 4, k: 40 }, { keep: 12, group: 32, vectorLength: 4 }],
    [false, { m: 6, n: 4, k: 40 }, { keep: 12, group: 32, vectorLength: 1 }],
    [true, { m: 6, n: 4, k: 40 }, { keep: 12, group: 32, vectorLength: 1 }],
  ] as const)('NaN and Inf in A where every weight is pruned never reach C (Aᵀ %s, %o)', async (transposeA, shape, pattern) => {
    const backend = gpu();
    if (!backend) return;
    expect(await expectPoisonHarmless(backend, shape, pattern, { stream: { transposeA } }, 91)).toMatch(/^spmm-nm-stream /);
  });
});
