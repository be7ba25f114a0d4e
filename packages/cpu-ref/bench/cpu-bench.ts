/**
 * CPU benchmark of the `cpu` backend: the N:M kernel at 8:32 (V = 32), the dense blocked GEMM built the same
 * way, and @tensorflow/tfjs-backend-cpu's matMul, at 1024×1024×1024 and 256×4096×4096 (M×N×K).
 *
 * Every result is verified first (sampled rows against the float64 references), then the three run in
 * interleaved rounds so a noisy machine slows them alike; medians are reported.
 *
 *   pnpm --filter @nmkit/cpu-ref bench            # build + run, writes results/cpu-bench.{json,md}
 *   node dist-bench/cpu-bench.js --rounds 7 --shapes 1024x1024x1024
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  compareWithReference,
  type DenseMatrix,
  randomCompressed,
  randomDense,
  referenceDense,
  referenceSpmm,
  summarizeTimings,
} from '@nmkit/format';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type CpuBackend, type CpuWeights, createCpuBackend } from '../src/index.js';

interface Options {
  readonly rounds: number;
  readonly shapes: [number, number, number][];
  readonly out: string;
}

interface Row {
  readonly kernel: string;
  readonly threads: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly samplesMs: number[];
  /** Dense-equivalent GFLOP/s: 2·M·N·K / median (the convention for sparse kernels too). */
  readonly effectiveGflops: number;
  readonly verified: string;
}

interface ShapeResult {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly rows: Row[];
  readonly denseOverNM: number;
  readonly tfjsOverDense: number;
  readonly targets: { readonly nmAtLeast3xDense: boolean; readonly denseAtLeastTfjs: boolean };
}

const PATTERN = { keep: 8, group: 32, vectorLength: 32 };
const SAMPLE_ROWS = 8;

function parseOptions(argv: string[]): Options {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const shapes = (get('--shapes') ?? '1024x1024x1024,256x4096x4096').split(',').map((s) => {
    const [m, n, k] = s.split('x').map(Number);
    if (![m, n, k].every((x) => Number.isInteger(x) && x > 0)) throw new Error(`--shapes: "${s}" is not MxNxK`);
    return [m, n, k] as [number, number, number];
  });
  const rounds = Number(get('--rounds') ?? 5);
  const out = get('--out') ?? fileURLToPath(new URL('../results', import.meta.url));
  return { rounds, shapes, out };
}

/** Rows `0, step, 2·step …` of A: the sample every result is checked on. */
function sampleRows(a: DenseMatrix): { rows: number[]; a: DenseMatrix } {
  const step = Math.max(1, Math.floor(a.rows / SAMPLE_ROWS));
  const rows = Array.from({ length: Math.min(SAMPLE_ROWS, a.rows) }, (_, i) => i * step);
  const data = new Float32Array(rows.length * a.cols);
  rows.forEach((r, i) => data.set(a.data.subarray(r * a.cols, (r + 1) * a.cols), i * a.cols));
  return { rows, a: { rows: rows.length, cols: a.cols, data } };
}

function verify(what: string, c: Float32Array, n: number, sample: number[], ref: ReturnType<typeof referenceDense>, k: number): string {
  const got = new Float32Array(sample.length * n);
  sample.forEach((r, i) => got.set(c.subarray(r * n, (r + 1) * n), i * n));
  const result = compareWithReference(got, ref, k);
  if (!result.ok) throw new Error(`${what}: result differs from the float64 reference at ${JSON.stringify(result.firstMismatch)}`);
  return `${sample.length} rows × ${n} columns within the float32 bound (worst ${(result.worstRatio * 100).toFixed(1)} % of it)`;
}

async function timeOnce(run: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

async function benchShape(cpu: CpuBackend, cpu1: CpuBackend, m: number, n: number, k: number, rounds: number): Promise<ShapeResult> {
  console.log(`\n== ${m}×${n}×${k} (M×N×K) ==`);
  const a = randomDense(m, k, 11);
  const sparse = randomCompressed(k, n, PATTERN, 12);
  const denseB = randomDense(k, n, 13);
  const nm = await cpu.prepare(sparse);
  const dense = await cpu.prepareDense(denseB);
  const dense1 = await cpu1.prepareDense(denseB);
  const ta = tf.tensor2d(a.data, [m, k]);
  const tb = tf.tensor2d(denseB.data, [k, n]);
  const tfjsMatMul = () => {
    const c = tf.matMul(ta, tb);
    const data = c.dataSync() as Float32Array;
    c.dispose();
    return data;
  };

  // Verify every kernel before timing it (this also warms each one up).
  const sample = sampleRows(a);
  const nmRef = referenceSpmm(sample.a, sparse);
  const denseRef = referenceDense(sample.a, denseB);
  const verified = {
    nm: verify('N:M 8:32', (await cpu.matmul(a, nm)).data, n, sample.rows, nmRef, k),
    dense: verify('dense blocked', (await cpu.matmul(a, dense)).data, n, sample.rows, denseRef, k),
    dense1: verify('dense blocked, 1 thread', (await cpu1.matmul(a, dense1)).data, n, sample.rows, denseRef, k),
    tfjs: verify('tfjs matMul', tfjsMatMul(), n, sample.rows, denseRef, k),
  };
  console.log('verified: all four results match the references on sampled rows');
  await cpu.matmul(a, nm);
  await cpu.matmul(a, dense);

  // Interleaved rounds: N:M is fast, so it gets three samples per round.
  const samples = { nm: [] as number[], dense: [] as number[], dense1: [] as number[], tfjs: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 3; i++) samples.nm.push(await timeOnce(() => cpu.matmul(a, nm)));
    samples.dense.push(await timeOnce(() => cpu.matmul(a, dense)));
    samples.tfjs.push(await timeOnce(tfjsMatMul));
    samples.dense1.push(await timeOnce(() => cpu1.matmul(a, dense1 as CpuWeights)));
    const last = (x: number[]) => x[x.length - 1].toFixed(0);
    console.log(`round ${round + 1}/${rounds}: nm ${last(samples.nm)} ms, dense ${last(samples.dense)} ms, tfjs ${last(samples.tfjs)} ms, dense 1 thread ${last(samples.dense1)} ms`);
  }
  ta.dispose();
  tb.dispose();
  nm.dispose();
  dense.dispose();
  dense1.dispose();

  const row = (kernel: string, threads: number, s: number[], check: string): Row => {
    const t = summarizeTimings(s, 'host');
    return { kernel, threads, medianMs: t.medianMs, minMs: t.minMs, samplesMs: s, effectiveGflops: (2 * m * n * k) / t.medianMs / 1e6, verified: check };
  };
  const rows = [
    row('cpu N:M 8:32 (V=32)', cpu.threads, samples.nm, verified.nm),
    row('cpu dense blocked', cpu.threads, samples.dense, verified.dense),
    row('tfjs-backend-cpu matMul', 1, samples.tfjs, verified.tfjs),
    row('cpu dense blocked, 1 thread', 1, samples.dense1, verified.dense1),
  ];
  const denseOverNM = rows[1].medianMs / rows[0].medianMs;
  const tfjsOverDense = rows[2].medianMs / rows[1].medianMs;
  return { m, n, k, rows, denseOverNM, tfjsOverDense, targets: { nmAtLeast3xDense: denseOverNM >= 3, denseAtLeastTfjs: tfjsOverDense >= 1 } };
}

function markdown(meta: Record<string, unknown>, results: ShapeResult[]): string {
  const lines = [
    '# CPU benchmark: N:M 8:32 vs dense blocked GEMM vs tfjs-backend-cpu',
    '',
    `- date: ${meta.date}`,
    `- commit: ${meta.commit}`,
    `- command: \`${meta.command}\``,
    `- device: ${meta.device} (${meta.cores} logical cores), Node ${meta.node}, @tensorflow/tfjs-core ${meta.tfjs}`,
    `- threads: ${meta.threads} worker threads for the cpu backend; tfjs-backend-cpu runs on one thread`,
    `- load average before / after: ${meta.loadBefore} / ${meta.loadAfter} (other processes share this machine)`,
    `- method: each result verified on ${SAMPLE_ROWS} sampled rows against the float64 reference, then ${meta.rounds} interleaved rounds (N:M 3 samples per round); median of the samples; effective GFLOP/s = 2·M·N·K / median`,
    '',
  ];
  for (const r of results) {
    lines.push(`## ${r.m}×${r.n}×${r.k} (M×N×K)`, '', '| kernel | threads | median ms | min ms | effective GFLOP/s | samples |', '|---|---|---|---|---|---|');
    for (const row of r.rows) {
      lines.push(`| ${row.kernel} | ${row.threads} | ${row.medianMs.toFixed(1)} | ${row.minMs.toFixed(1)} | ${row.effectiveGflops.toFixed(2)} | ${row.samplesMs.length} |`);
    }
    lines.push(
      '',
      `- dense blocked / N:M = **${r.denseOverNM.toFixed(2)}×** (target ≥ 3×: ${r.targets.nmAtLeast3xDense ? 'met' : 'NOT met'})`,
      `- tfjs matMul / dense blocked = **${r.tfjsOverDense.toFixed(2)}×** (target ≥ 1×: ${r.targets.denseAtLeastTfjs ? 'met' : 'NOT met'})`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  await tf.setBackend('cpu');
  // The workers run the built dist/worker.js (same sources as this bundle, built by the same `pnpm build`).
  const workerUrl = new URL('../dist/worker.js', import.meta.url);
  const cpu = await createCpuBackend({ workerUrl });
  const cpu1 = await createCpuBackend({ threads: 1 });
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const results: ShapeResult[] = [];
  try {
    for (const [m, n, k] of options.shapes) results.push(await benchShape(cpu, cpu1, m, n, k, options.rounds));
  } finally {
    await cpu.dispose();
    await cpu1.dispose();
  }
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain -- .', { encoding: 'utf8' }).trim();
    if (dirty) commit += ' (with uncommitted changes in packages/cpu-ref)';
  } catch {
    // not a git checkout
  }
  const meta = {
    date: new Date().toISOString(),
    commit,
    command: `node ${process.argv.slice(1).map((p) => p.replace(/^.*\/packages\/cpu-ref\//, '')).join(' ')}`,
    device: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    tfjs: tf.version_core,
    threads: cpu.threads,
    rounds: options.rounds,
    loadBefore,
    loadAfter: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
  mkdirSync(options.out, { recursive: true });
  writeFileSync(`${options.out}/cpu-bench.json`, `${JSON.stringify({ meta, results }, null, 2)}\n`);
  const md = markdown(meta, results);
  writeFileSync(`${options.out}/cpu-bench.md`, md);
  console.log(`\n${md}`);
  console.log(`wrote ${options.out}/cpu-bench.json and cpu-bench.md`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
