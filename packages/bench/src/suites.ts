import { type MatmulShape, type NMPattern, nmPattern } from '@nmkit/format';
import type { SuiteName } from './parse-args.js';

/** A named set of shapes × patterns with its default repetition counts. */
export interface Suite {
  readonly name: SuiteName;
  readonly description: string;
  readonly shapes: readonly MatmulShape[];
  readonly patterns: readonly NMPattern[];
  readonly warmup: number;
  readonly repeats: number;
}

/** Hidden sizes d and their LLaMA feed-forward sizes, as in the paper's benchmark set. */
const LLAMA_HIDDEN: readonly [number, number][] = [
  [2048, 5632],
  [4096, 11008],
  [5120, 13824],
  [6656, 17920],
  [8192, 22016],
];

/** The four (N, K) weight shapes of one layer: (d, d), (3d, d), (d, ffn), (ffn, d). */
function layerPairs(d: number, ffn: number): [number, number][] {
  return [
    [d, d],
    [3 * d, d],
    [d, ffn],
    [ffn, d],
  ];
}

/** The paper's four sparsities at window 32 and vector length 32. */
const PAPER_PATTERNS = [16, 12, 8, 4].map((keep) => nmPattern(keep, 32, 32));

function cross(ms: readonly number[], pairs: readonly [number, number][]): MatmulShape[] {
  return pairs.flatMap(([n, k]) => ms.map((m) => ({ m, n, k })));
}

/** Every (keep, group) of the patterns suite at every vector length. */
function patternSweep(): NMPattern[] {
  const ratios: [number, number][] = [
    [2, 4],
    [4, 8],
    [1, 4],
    [2, 8],
    [16, 32],
    [12, 32],
    [8, 32],
    [4, 32],
    [1, 32],
  ];
  return [1, 32, 128].flatMap((v) => ratios.map(([keep, group]) => nmPattern(keep, group, v)));
}

/**
 * The built-in suites. Shapes are ordered so that cases sharing the weights (same N, K) are adjacent: the
 * runner then builds and uploads each weight matrix once.
 */
export const SUITES: Readonly<Record<Exclude<SuiteName, 'custom'>, Suite>> = {
  quick: {
    name: 'quick',
    description: 'two small shapes (a prefill-like and a decode-like one) at 50, 75 and 87.5 % sparsity',
    shapes: [
      { m: 128, n: 1024, k: 1024 },
      { m: 16, n: 1024, k: 1024 },
    ],
    patterns: [nmPattern(16, 32, 32), nmPattern(8, 32, 32), nmPattern(4, 32, 32)],
    warmup: 1,
    repeats: 3,
  },
  paper: {
    name: 'paper',
    description: 'the NM-SpMM paper set: M ∈ {256, 512, 1024, 2048, 4096} × 20 LLaMA (N, K) pairs, 16/12/8/4:32, V = 32',
    shapes: cross(
      [256, 512, 1024, 2048, 4096],
      LLAMA_HIDDEN.flatMap(([d, ffn]) => layerPairs(d, ffn)),
    ),
    patterns: PAPER_PATTERNS,
    warmup: 5,
    repeats: 20,
  },
  decode: {
    name: 'decode',
    description: 'decode-time M ∈ {1, 8, 16, 64} on LLaMA-7B (d 4096) and LLaMA-65B (d 8192) layers, 16/12/8/4:32, V = 32',
    shapes: cross([1, 8, 16, 64], [...layerPairs(4096, 11008), ...layerPairs(8192, 22016)]),
    patterns: PAPER_PATTERNS,
    warmup: 5,
    repeats: 30,
  },
  patterns: {
    name: 'patterns',
    description: 'nine keep:group ratios × V ∈ {1, 32, 128} on a decode-like and a prefill-like shape',
    // Small enough to finish in minutes on a 2-core CPU; pass --shapes for larger ones on a GPU.
    shapes: [
      { m: 16, n: 4096, k: 4096 },
      { m: 256, n: 2048, k: 2048 },
    ],
    patterns: patternSweep(),
    warmup: 2,
    repeats: 7,
  },
  targets: {
    name: 'targets',
    description: 'the issues\' target set: 4096³, 256×4096×4096 and 2048×11008×4096 at 16/12/8/4:32 (V = 32), 2:4 and 4:8 (V = 32 and 1)',
    shapes: [
      { m: 4096, n: 4096, k: 4096 },
      { m: 256, n: 4096, k: 4096 },
      { m: 2048, n: 11008, k: 4096 },
    ],
    patterns: [...PAPER_PATTERNS, nmPattern(2, 4, 32), nmPattern(4, 8, 32), nmPattern(2, 4, 1), nmPattern(4, 8, 1)],
    warmup: 5,
    repeats: 20,
  },
  windows: {
    name: 'windows',
    description: 'window length at fixed sparsity: groups of 32 to 256 rows at 50 % and 75 %, V = 32, decode to 4096³',
    // Sized for a GPU (4096³ takes seconds per case on a 2-core CPU): pass --shapes there.
    shapes: cross([16, 256, 4096], [[4096, 4096]]),
    patterns: [32, 64, 128, 256].flatMap((group) => [nmPattern(group / 2, group, 32), nmPattern(group / 4, group, 32)]),
    warmup: 3,
    repeats: 10,
  },
};

/** The suite a command line asks for: a built-in one with flags overriding its shapes, patterns and counts. */
export function resolveSuite(
  name: SuiteName,
  overrides: {
    shapes?: readonly MatmulShape[];
    patterns?: readonly NMPattern[];
    warmup?: number;
    repeats?: number;
  },
): Suite {
  const base: Suite =
    name === 'custom'
      ? { name, description: 'shapes and patterns from the command line', shapes: [], patterns: [], warmup: 3, repeats: 10 }
      : SUITES[name];
  return {
    ...base,
    shapes: overrides.shapes ?? base.shapes,
    patterns: overrides.patterns ?? base.patterns,
    warmup: overrides.warmup ?? base.warmup,
    repeats: overrides.repeats ?? base.repeats,
  };
}
