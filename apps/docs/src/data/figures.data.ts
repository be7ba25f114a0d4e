import { H100_SXM, nmPattern, pruneByMagnitude, randomDense } from '@nmkit/format';
import { defineLoader } from 'vitepress';
import { formatFigure } from '../figures/format-figure.js';
import { effectiveCeilingFigure, type RooflinePoint, rooflineFigure, rooflinePoints, seriesLabel } from '../figures/roofline-figure.js';

/** One row of the modelled table on the "what is N:M" page. */
export interface ModelRow {
  readonly m: number;
  readonly pattern: string;
  readonly intensity: string;
  readonly bound: string;
  readonly floorMicroseconds: string;
  readonly effectiveTflops: string;
  readonly speedupOverDense: string;
}

export interface FiguresData {
  readonly formatSvg: string;
  readonly rooflineSvg: string;
  readonly ceilingSvg: string;
  readonly device: { readonly name: string; readonly tflops: number; readonly terabytesPerSecond: number; readonly ridge: number };
  readonly modelRows: readonly ModelRow[];
}

/** The example the format figure is drawn from: a real 8×8 matrix pruned by magnitude to 2:4 with V = 4. */
export const FORMAT_EXAMPLE = { rows: 8, cols: 8, keep: 2, group: 4, vectorLength: 4, seed: 7 } as const;

/** The weight the roofline models: a 4096×4096 layer (K = N = 4096), the paper's most common size. */
export const ROOFLINE_WEIGHT = { n: 4096, k: 4096 } as const;

declare const data: FiguresData;
export { data };

/** Figures generated at build time from @nmkit/format itself: nothing here is typed by hand. */
export default defineLoader({
  load(): FiguresData {
    const { rows, cols, keep, group, vectorLength, seed } = FORMAT_EXAMPLE;
    const dense = randomDense(rows, cols, seed);
    const sparse = pruneByMagnitude(dense, nmPattern(keep, group, vectorLength));
    const points = rooflinePoints(H100_SXM, ROOFLINE_WEIGHT.n, ROOFLINE_WEIGHT.k);
    return {
      formatSvg: formatFigure(dense, sparse),
      rooflineSvg: rooflineFigure(H100_SXM, points),
      ceilingSvg: effectiveCeilingFigure(H100_SXM, points),
      device: {
        name: H100_SXM.name,
        tflops: H100_SXM.flopsPerSecond / 1e12,
        terabytesPerSecond: H100_SXM.bytesPerSecond / 1e12,
        ridge: H100_SXM.flopsPerSecond / H100_SXM.bytesPerSecond,
      },
      modelRows: modelRows(points),
    };
  },
});

function modelRows(points: readonly RooflinePoint[]): ModelRow[] {
  const denseFloor = new Map(points.filter((p) => !p.pattern).map((p) => [p.shape.m, p.floorSeconds]));
  return points
    .filter((p) => [1, 16, 256, 4096].includes(p.shape.m))
    .sort((x, y) => x.shape.m - y.shape.m)
    .map((p) => ({
      m: p.shape.m,
      pattern: seriesLabel(p.pattern),
      intensity: p.arithmeticIntensity.toFixed(2),
      bound: p.bound,
      floorMicroseconds: (p.floorSeconds * 1e6).toPrecision(3),
      effectiveTflops: (p.effectiveFlopsPerSecond / 1e12).toPrecision(3),
      speedupOverDense: ((denseFloor.get(p.shape.m) ?? p.floorSeconds) / p.floorSeconds).toFixed(2),
    }));
}
