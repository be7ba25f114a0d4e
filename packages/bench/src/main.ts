import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DevicePeak, H100_SXM, type NMBackend } from '@nmkit/format';
import { backendDenseBaseline, type DenseBaseline, tfjsBaseline } from './baselines.js';
import { deviceSlug } from './device-slug.js';
import { collectEnvironment } from './environment.js';
import { formatPattern, formatSpeedup } from './format-number.js';
import { LiveTable, type TableOutput } from './live-table.js';
import { mergeResults } from './merge-results.js';
import { type BackendReport, loadBackends } from './load-backends.js';
import { BACKEND_NAMES, type BaselineKind, parseArgs, USAGE, UsageError } from './parse-args.js';
import type { BackendSummary, BenchResults } from './results.js';
import { runSuite } from './run-suite.js';
import { geometricMean } from './stats.js';
import { resolveSuite } from './suites.js';
import { writeOutputs } from './write-outputs.js';

/** Where the CLI writes: stdout gets the table, stderr the diagnostics. */
export interface CliIO {
  readonly stdout: TableOutput;
  readonly stderr: { write(text: string): unknown };
}

/** Outcome of {@link runCli}: the exit code, and for a run the results and the folder they were written to. */
export interface CliOutcome {
  readonly exitCode: number;
  readonly results?: BenchResults;
  readonly outDir?: string;
}

/** tfjs is skipped above this many FLOP unless asked for explicitly: it is single-threaded and slow. */
const TFJS_DEFAULT_MAX_FLOPS = 4e9;

const CPU_BACKENDS = new Set(['cpu', 'cpu-ref']);

/**
 * The FP32 peak of a backend's device: `--peak` if given; H100 when the device names one, or for a WebGPU adapter
 * from NVIDIA on a machine whose only GPU nvidia-smi reports as an H100 (Dawn's adapter name omits the model).
 */
function peakOf(backend: NMBackend, override: DevicePeak | undefined, gpus: readonly string[] | null): DevicePeak | undefined {
  if (override) return override;
  if (/H100/i.test(backend.device)) return H100_SXM;
  const onlyGpuIsH100 = gpus?.length === 1 && /H100/i.test(gpus[0]);
  return backend.name === 'webgpu' && /nvidia/i.test(backend.device) && onlyGpuIsH100 ? H100_SXM : undefined;
}

/**
 * The whole command line: parse, load backends, run the suite with a live table, write JSON + Markdown + SVG.
 * Returns instead of exiting, so tests can call it in-process.
 * @example const { exitCode, outDir } = await runCli(['quick', '--out', '/tmp/q']);
 */
export async function runCli(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<CliOutcome> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`nmkit-bench: ${error.message}\nRun nmkit-bench --help for the suites and flags.\n`);
      return { exitCode: 2 };
    }
    throw error;
  }
  if (options.command === 'help') {
    io.stdout.write(USAGE);
    return { exitCode: 0 };
  }
  if (options.command === 'render') {
    const input = resolve(options.input!);
    const results = JSON.parse(readFileSync(input, 'utf8')) as BenchResults;
    const dir = options.out ? resolve(options.out) : dirname(input);
    for (const path of writeOutputs(results, dir, dir !== dirname(input))) io.stdout.write(`wrote ${path}\n`);
    return { exitCode: 0, results, outDir: dir };
  }

  if (options.command === 'merge') {
    const runs = options.inputs!.map((path) => JSON.parse(readFileSync(resolve(path), 'utf8')) as BenchResults);
    const results = mergeResults(runs);
    const dir = resolve(options.out!);
    for (const path of writeOutputs(results, dir)) io.stdout.write(`wrote ${path}\n`);
    return { exitCode: 0, results, outDir: dir };
  }

  const startedAt = new Date();
  const suite = resolveSuite(options.suite, options);
  const environment = collectEnvironment(argv);
  const reports = await loadBackends(options.backends ?? BACKEND_NAMES);
  const available = reports.filter((r): r is Extract<BackendReport, { available: true }> => r.available);
  // The cpu-ref oracle is slow: run it only when asked for, or when nothing else is available.
  const selected = options.backends
    ? available
    : available.filter((r) => r.name !== 'cpu-ref' || available.length === 1);
  const backends = selected.map((r) => r.backend);

  const kinds: readonly BaselineKind[] =
    options.baselines ?? ['dense', ...(backends.some((b) => CPU_BACKENDS.has(b.name)) ? (['tfjs'] as const) : [])];
  const baselines: DenseBaseline[] = [];
  const baselineNotes: BackendSummary[] = [];
  if (kinds.includes('dense')) {
    for (const backend of backends) {
      const baseline = backendDenseBaseline(backend);
      if (baseline) baselines.push(baseline);
    }
  }
  if (kinds.includes('tfjs')) {
    const tfjs = await tfjsBaseline(options.baselines?.includes('tfjs') ? Number.POSITIVE_INFINITY : TFJS_DEFAULT_MAX_FLOPS);
    if (typeof tfjs === 'string') {
      baselineNotes.push({ name: 'tfjs (baseline)', available: false, benchmarked: false, reason: tfjs });
    } else {
      baselines.push(tfjs);
      baselineNotes.push({ name: 'tfjs (baseline)', available: true, benchmarked: true, device: tfjs.device, denseBaseline: tfjs.label, timing: 'host' });
    }
  }

  const backendSummaries: BackendSummary[] = [
    ...reports.map((r): BackendSummary => {
      if (!r.available) return { name: r.name, available: false, benchmarked: false, reason: r.reason, fix: r.fix };
      const b = r.backend;
      const benchmarked = backends.includes(b);
      return {
        name: r.name,
        available: true,
        benchmarked,
        device: b.device,
        timing: b.capabilities.timing,
        denseBaseline: b.capabilities.denseBaseline,
        fastPaths: b.capabilities.fastPaths,
        peak: peakOf(b, options.peak, environment.gpu as string[] | null) ?? null,
        reason: benchmarked ? undefined : 'the slow float64 oracle is run only when asked for: --backends cpu-ref',
      };
    }),
    ...baselineNotes,
  ];

  io.stdout.write(
    `nmkit-bench ${suite.name}: ${suite.shapes.length} shapes × ${suite.patterns.length} patterns, ` +
      `warm-up ${suite.warmup}, ${suite.repeats} timed runs\n`,
  );
  for (const b of backendSummaries) {
    const status = b.benchmarked ? '✓' : b.available ? '·' : '✗';
    const detail = b.available ? `${b.device ?? ''}${b.reason ? ` — ${b.reason}` : ''}` : `${b.reason}${b.fix ? ` (fix: ${b.fix})` : ''}`;
    io.stdout.write(`  ${status} ${b.name.padEnd(16)} ${detail}\n`);
  }
  if (backends.length === 0) {
    io.stderr.write('nmkit-bench: no backend is available to benchmark (reasons above).\n');
    await Promise.all(available.map((r) => r.backend.dispose()));
    return { exitCode: 1 };
  }

  const shardName = options.shard ? `-shard-${options.shard.index}-of-${options.shard.count}` : '';
  const runName = options.operands === 'device-matrix' ? `${suite.name}-device-matrix` : suite.name;
  const outDir = options.out
    ? resolve(options.out)
    : resolve(fileURLToPath(new URL('../results/', import.meta.url)), `${runName}-${deviceSlug(backends[0].name, backends[0].device, environment.gpu as string[] | null)}${shardName}`);

  const table = new LiveTable(io.stdout, baselines.some((b) => b.id === 'tfjs'));
  const assemble = (cases: BenchResults['cases'], baselineResults: BenchResults['baselines'], partial: boolean): BenchResults => ({
    schema: 'nmkit-bench/1',
    suite: suite.name,
    description: suite.description,
    settings: {
      warmup: suite.warmup,
      repeats: suite.repeats,
      seed: options.seed,
      shard: options.shard ? `${options.shard.index}/${options.shard.count}` : null,
      operands: options.operands ?? 'dense-matrix',
      shapes: suite.shapes,
      patterns: suite.patterns,
    },
    environment,
    backends: backendSummaries,
    baselines: baselineResults,
    cases,
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1e3,
    partial,
  });
  const outcome = await runSuite({
    suite,
    backends,
    baselines,
    seed: options.seed,
    shard: options.shard,
    operands: options.operands,
    peakFor: (b) => peakOf(b, options.peak, environment.gpu as string[] | null),
    progress: table,
    deadline: options.timeBudgetSeconds === undefined ? undefined : performance.now() + options.timeBudgetSeconds * 1e3,
    checkpoint: (so) => writeOutputs(assemble(so.cases, so.baselines, true), outDir),
  });
  await Promise.all(available.map((r) => r.backend.dispose()));
  const { cases, baselines: baselineResults } = outcome;
  const results = assemble(cases, baselineResults, outcome.stoppedEarly);
  const written = writeOutputs(results, outDir);
  if (outcome.stoppedEarly) io.stdout.write(`Stopped early at --time-budget ${options.timeBudgetSeconds} s: results are partial.\n`);

  io.stdout.write('\nGeometric-mean speedup over the own dense baseline:\n');
  for (const backend of backends) {
    const parts = suite.patterns.map((p) => {
      const xs = cases
        .filter((c) => c.backend === backend.name && formatPattern(c.pattern) === formatPattern(p))
        .map((c) => c.metrics?.speedupOverOwnDense)
        .filter((s): s is number => typeof s === 'number' && s > 0);
      return `${formatPattern(p)}: ${xs.length ? formatSpeedup(geometricMean(xs)) : 'n/a'}`;
    });
    io.stdout.write(`  ${backend.name.padEnd(8)} ${parts.join(', ')}\n`);
  }
  const bad = [...cases, ...baselineResults].filter((r) => r.measurement.status === 'wrong' || r.measurement.status === 'error');
  if (bad.length > 0) io.stdout.write(`WARNING: ${bad.length} measurement(s) were wrong or failed; see the Problems section.\n`);
  io.stdout.write(`Wrote ${written.join(', ')}\n`);
  return { exitCode: 0, results, outDir };
}
