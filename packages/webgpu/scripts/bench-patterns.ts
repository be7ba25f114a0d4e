import { type NMPattern, nmPattern } from '@nmkit/format';

/** The H100 benchmark's patterns by name (`--patterns`): the four V = 32 ratios, element-wise 2:4 / 4:8
 * and 2:4 / 4:8 with V = 32. */
export const BENCH_PATTERNS: Record<string, NMPattern | undefined> = {
  dense: undefined,
  '16:32': { keep: 16, group: 32, vectorLength: 32 },
  '12:32': { keep: 12, group: 32, vectorLength: 32 },
  '8:32': { keep: 8, group: 32, vectorLength: 32 },
  '4:32': { keep: 4, group: 32, vectorLength: 32 },
  '2:4': { keep: 2, group: 4, vectorLength: 1 },
  '4:8': { keep: 4, group: 8, vectorLength: 1 },
  // The 16:32 density in short windows with V = 32 (stages of 32 rows keep 16, as 16:32).
  '2:4/32': { keep: 2, group: 4, vectorLength: 32 },
  '4:8/32': { keep: 4, group: 8, vectorLength: 32 },
};

/** A `--patterns` name (or a run's recorded one): one of {@link BENCH_PATTERNS}, or `keep:group` (V = 32) / `keep:group:V`. */
export function patternNamed(name: string): NMPattern | undefined {
  if (name in BENCH_PATTERNS) return BENCH_PATTERNS[name];
  const [keep, group, vectorLength = 32] = name.split(':').map(Number);
  return nmPattern(keep, group, vectorLength);
}
