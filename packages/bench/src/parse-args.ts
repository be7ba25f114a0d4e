import { assertPattern, type DevicePeak, type MatmulShape, NMError, type NMPattern } from '@nmkit/format';

/** The suites the CLI knows; `custom` takes its shapes and patterns from flags only. */
export const SUITE_NAMES = ['quick', 'paper', 'decode', 'patterns', 'targets', 'windows', 'custom'] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];

/** Backend names in registry priority order. */
export const BACKEND_NAMES = ['cuda', 'webgpu', 'cpu', 'cpu-ref'] as const;

/** Baselines that can be requested with `--baselines`. */
export const BASELINE_KINDS = ['dense', 'tfjs'] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

/** A bad command line. The message says which flag, what was wrong, and what is expected. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Everything the command line can set; undefined fields fall back to the suite's defaults. */
export interface BenchOptions {
  readonly command: 'run' | 'render' | 'merge' | 'help';
  readonly suite: SuiteName;
  readonly shapes?: readonly MatmulShape[];
  readonly patterns?: readonly NMPattern[];
  readonly backends?: readonly string[];
  readonly baselines?: readonly BaselineKind[];
  readonly repeats?: number;
  readonly warmup?: number;
  readonly out?: string;
  readonly seed: number;
  /** Run only the i-th of n slices of the case list (1-based), to split a long suite over several commands. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Device peak override: FLOP/s and bytes/s. */
  readonly peak?: DevicePeak;
  /** Seconds after which no new work starts (the run ends cleanly, marked partial). */
  readonly timeBudgetSeconds?: number;
  /** Where the timed runs' A comes from ({@link TimingOptions.input}); undefined: `dense-matrix`. */
  readonly operands?: 'dense-matrix' | 'device-matrix';
  /** For `render`: the results JSON to re-render. */
  readonly input?: string;
  /** For `merge`: the results JSON files to join. */
  readonly inputs?: readonly string[];
}

/**
 * Parses `MxNxK` (also `M×N×K`) into a GEMM shape.
 * @throws {UsageError} naming the text and the expected form.
 * @example parseShape('256x4096x4096') // { m: 256, n: 4096, k: 4096 }
 */
export function parseShape(text: string): MatmulShape {
  const parts = text.trim().split(/[x×X]/);
  const dims = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
  if (parts.length !== 3 || dims.some((d) => !Number.isSafeInteger(d) || d < 1 || d > 2 ** 31 - 1)) {
    throw new UsageError(
      `Bad shape "${text}": expected MxNxK with three positive integers (C[M×N] = A[M×K]·B[K×N]), e.g. 256x4096x4096.`,
    );
  }
  return { m: dims[0], n: dims[1], k: dims[2] };
}

/**
 * Parses `keep:group[:V]` (V defaults to 1, element-wise) into a pattern.
 * @throws {UsageError} naming the text, the broken field and the expected form.
 * @example parsePattern('8:32:32') // { keep: 8, group: 32, vectorLength: 32 }
 */
export function parsePattern(text: string): NMPattern {
  const parts = text.trim().split(':');
  const fields = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
  if ((parts.length !== 2 && parts.length !== 3) || fields.some((f) => !Number.isSafeInteger(f))) {
    throw new UsageError(
      `Bad pattern "${text}": expected keep:group or keep:group:V with positive integers, e.g. 8:32:32 or 2:4:1.`,
    );
  }
  const pattern = { keep: fields[0], group: fields[1], vectorLength: fields[2] ?? 1 };
  try {
    assertPattern(pattern);
  } catch (error) {
    const why = NMError.isInstance(error) ? error.message : String(error);
    throw new UsageError(`Bad pattern "${text}": ${why}`);
  }
  return pattern;
}

function positiveInteger(flag: string, text: string, allowZero: boolean): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new UsageError(`Bad ${flag} "${text}": expected ${allowZero ? 'a non-negative' : 'a positive'} integer.`);
  }
  return value;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const FLAGS_WITH_VALUE = new Set([
  '--shapes',
  '--patterns',
  '--backends',
  '--baselines',
  '--repeats',
  '--warmup',
  '--out',
  '--seed',
  '--shard',
  '--peak',
  '--time-budget',
  '--operands',
]);

/**
 * Parses the CLI's arguments (without `node` and the script). `--flag value` and `--flag=value` both work.
 * @throws {UsageError} for an unknown suite or flag, a missing value, or a bad shape, pattern or number.
 * @example parseArgs(['quick', '--repeats', '5']).repeats // 5
 */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const positional: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { command: 'help', suite: 'quick', seed: 1 };
    if (arg === '--') continue;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!FLAGS_WITH_VALUE.has(flag)) {
      throw new UsageError(`Unknown flag ${flag}. Known flags: ${[...FLAGS_WITH_VALUE].join(', ')}, --help.`);
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      throw new UsageError(`Flag ${flag} needs a value.`);
    }
    values.set(flag, value);
  }

  if (positional[0] === 'render') {
    if (positional.length !== 2) throw new UsageError('Usage: nmkit-bench render RESULTS.json [--out DIR]');
    return { command: 'render', suite: 'custom', seed: 1, input: positional[1], out: values.get('--out') };
  }
  if (positional[0] === 'merge') {
    const out = values.get('--out');
    if (positional.length < 2 || !out) throw new UsageError('Usage: nmkit-bench merge A/results.json B/results.json ... --out DIR');
    return { command: 'merge', suite: 'custom', seed: 1, inputs: positional.slice(1), out };
  }
  if (positional.length > 1) throw new UsageError(`Expected one suite, got "${positional.join(' ')}".`);
  const suiteText = positional[0] ?? (values.has('--shapes') ? 'custom' : 'quick');
  if (!(SUITE_NAMES as readonly string[]).includes(suiteText)) {
    throw new UsageError(`Unknown suite "${suiteText}". Suites: ${SUITE_NAMES.join(', ')} (or "render FILE.json").`);
  }
  const suite = suiteText as SuiteName;

  const shapesText = values.get('--shapes');
  const patternsText = values.get('--patterns');
  const shapes = shapesText === undefined ? undefined : list(shapesText).map(parseShape);
  const patterns = patternsText === undefined ? undefined : list(patternsText).map(parsePattern);
  if (shapes?.length === 0) throw new UsageError('--shapes is empty: give MxNxK,... e.g. 256x4096x4096.');
  if (patterns?.length === 0) throw new UsageError('--patterns is empty: give keep:group:V,... e.g. 8:32:32.');
  if (suite === 'custom' && (!shapes || !patterns)) {
    throw new UsageError('The custom suite needs both --shapes MxNxK,... and --patterns keep:group:V,...');
  }

  const backendsText = values.get('--backends');
  const backends = backendsText === undefined ? undefined : list(backendsText);
  for (const name of backends ?? []) {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`Unknown backend "${name}". Backends: ${BACKEND_NAMES.join(', ')}.`);
    }
  }
  if (backends?.length === 0) throw new UsageError(`--backends is empty: give some of ${BACKEND_NAMES.join(', ')}.`);

  const baselinesText = values.get('--baselines');
  let baselines: BaselineKind[] | undefined;
  if (baselinesText !== undefined) {
    baselines = baselinesText === 'none' ? [] : (list(baselinesText) as BaselineKind[]);
    for (const name of baselines) {
      if (!(BASELINE_KINDS as readonly string[]).includes(name)) {
        throw new UsageError(`Unknown baseline "${name}". Baselines: ${BASELINE_KINDS.join(', ')}, or none.`);
      }
    }
  }

  const shardText = values.get('--shard');
  let shard: BenchOptions['shard'];
  if (shardText !== undefined) {
    const match = /^(\d+)\/(\d+)$/.exec(shardText);
    const index = match ? Number(match[1]) : 0;
    const count = match ? Number(match[2]) : 0;
    if (!match || count < 1 || index < 1 || index > count) {
      throw new UsageError(`Bad --shard "${shardText}": expected i/n with 1 ≤ i ≤ n, e.g. 2/4.`);
    }
    shard = { index, count };
  }

  const peakText = values.get('--peak');
  let peak: BenchOptions['peak'];
  if (peakText !== undefined) {
    const [tflops, gbps] = peakText.split(',').map(Number);
    if (!(tflops > 0) || !(gbps > 0) || peakText.split(',').length !== 2) {
      throw new UsageError(`Bad --peak "${peakText}": expected TFLOPS,GBPS (FP32 peak and memory bandwidth), e.g. 66.9,3000.`);
    }
    peak = { name: `--peak ${tflops} TFLOP/s, ${gbps} GB/s`, flopsPerSecond: tflops * 1e12, bytesPerSecond: gbps * 1e9 };
  }

  const operands = values.get('--operands');
  if (operands !== undefined && operands !== 'dense-matrix' && operands !== 'device-matrix') {
    throw new UsageError(`Bad --operands "${operands}": expected dense-matrix or device-matrix.`);
  }

  const repeatsText = values.get('--repeats');
  const warmupText = values.get('--warmup');
  const seedText = values.get('--seed');
  return {
    command: 'run',
    suite,
    shapes,
    patterns,
    backends,
    baselines,
    repeats: repeatsText === undefined ? undefined : positiveInteger('--repeats', repeatsText, false),
    warmup: warmupText === undefined ? undefined : positiveInteger('--warmup', warmupText, true),
    out: values.get('--out'),
    seed: seedText === undefined ? 1 : positiveInteger('--seed', seedText, true),
    shard,
    peak,
    operands,
    timeBudgetSeconds:
      values.get('--time-budget') === undefined ? undefined : positiveInteger('--time-budget', values.get('--time-budget')!, false),
  };
}

/** The `--help` text. */
export const USAGE = `nmkit-bench: N:M SpMM against dense baselines on every available backend

Usage:
  nmkit-bench [SUITE] [flags]
  nmkit-bench render RESULTS.json [--out DIR]   re-render Markdown and SVG from a results JSON
  nmkit-bench merge A.json B.json ... --out DIR  join runs of one suite (e.g. shards) into one results folder

Suites:
  quick      a few small shapes, seconds on a 2-core laptop (default)
  paper      M ∈ {256..4096} × 20 (N, K) LLaMA-style pairs at 16:32, 12:32, 8:32, 4:32, V = 32
  decode     M ∈ {1, 8, 16, 64} on LLaMA-7B and -65B layer shapes
  patterns   2:4, 4:8, 1:4, 2:8, 16:32, 12:32, 8:32, 4:32, 1:32 × V ∈ {1, 32, 128} on a few shapes
  targets    the issues' target shapes (4096³, 256×4096×4096, 2048×11008×4096) at 16:32 … 4:32, 2:4, 4:8
  windows    window lengths 32 to 256 at 50 % and 75 % sparsity (16:32 … 128:256, 8:32 … 64:256), V = 32
  custom     only what --shapes and --patterns say

Flags:
  --shapes MxNxK,...        replace the suite's shapes (C[M×N] = A[M×K]·B[K×N])
  --patterns keep:group[:V] replace the suite's patterns (V defaults to 1), e.g. 8:32:32,2:4:1
  --backends a,b            among cuda, webgpu, cpu, cpu-ref (default: every available one but the cpu-ref oracle)
  --baselines dense,tfjs    dense = each backend's own dense kernel (cuBLAS, WGSL, blocked CPU);
                            tfjs = @tensorflow/tfjs-backend-cpu matMul (default: dense, plus tfjs when a CPU backend runs);
                            none = no baselines
  --repeats N --warmup N    timed and untimed runs per case (defaults depend on the suite)
  --seed N                  seed of the random operands (default 1)
  --shard i/n               run only slice i of n of the case list (split a long suite over several commands)
  --peak TFLOPS,GBPS        device peak for the roofline and "% of peak" (H100 is known; others are n/a)
  --operands KIND           dense-matrix (default): time each product from a row-major A in device memory;
                            device-matrix: A and C in the layouts a chain of matmulDevice calls passes on
                            (CUDA tiled kernels: Aᵀ made once, not per product); results go to <suite>-device-matrix-<device>/
  --time-budget SECONDS     start no new work after this long; the results so far are written, marked partial
                            (results are also saved after every weight shape, so a killed run keeps its progress)
  --out DIR                 output folder (default packages/bench/results/<suite>-<device>/)
`;
