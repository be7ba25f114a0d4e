import { type DevicePeak, describePattern, type MatmulShape, type NMPattern, performanceModel } from '@nmkit/format';
import { el, round, svgDocument, text } from './svg.js';

/** One modelled problem: a shape, a pattern (`undefined` = dense) and what the model says about it. */
export interface RooflinePoint {
  readonly shape: MatmulShape;
  readonly pattern: NMPattern | undefined;
  readonly label: string;
  readonly arithmeticIntensity: number;
  readonly bound: 'compute' | 'memory';
  readonly floorSeconds: number;
  /** Useful FLOP/s at the floor time (what the roofline's y axis shows). */
  readonly usefulFlopsPerSecond: number;
  /** Dense-equivalent FLOP/s at the floor time: 2·M·N·K / floor. */
  readonly effectiveFlopsPerSecond: number;
}

/** The series drawn: dense and the paper's sparsities at V = 32. */
export const ROOFLINE_SERIES: readonly { label: string; pattern: NMPattern | undefined; color: string }[] = [
  { label: 'dense', pattern: undefined, color: '#6b7280' },
  { label: '16:32 (50 %)', pattern: { keep: 16, group: 32, vectorLength: 32 }, color: '#2563eb' },
  { label: '8:32 (75 %)', pattern: { keep: 8, group: 32, vectorLength: 32 }, color: '#ea580c' },
  { label: '4:32 (87.5 %)', pattern: { keep: 4, group: 32, vectorLength: 32 }, color: '#16a34a' },
];

/** Rows of A modelled: decode (1, 16) through large batches. */
export const ROOFLINE_M = [1, 4, 16, 64, 256, 1024, 4096, 16384] as const;

/**
 * Runs the performance model over every series and M for an N×K weight on `device`.
 * @example rooflinePoints(H100_SXM, 4096, 4096).filter((p) => p.bound === 'memory')
 */
export function rooflinePoints(device: DevicePeak, n: number, k: number): RooflinePoint[] {
  const points: RooflinePoint[] = [];
  for (const series of ROOFLINE_SERIES) {
    for (const m of ROOFLINE_M) {
      const shape = { m, n, k };
      const estimate = performanceModel(shape, series.pattern, device);
      points.push({
        shape,
        pattern: series.pattern,
        label: series.label,
        arithmeticIntensity: estimate.arithmeticIntensity,
        bound: estimate.bound!,
        floorSeconds: estimate.floorSeconds!,
        usefulFlopsPerSecond: estimate.usefulFlops / estimate.floorSeconds!,
        effectiveFlopsPerSecond: estimate.effectiveFlops / estimate.floorSeconds!,
      });
    }
  }
  return points;
}

interface LogAxes {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
}

const px = (a: LogAxes, x: number) => a.x0 + ((Math.log10(x) - Math.log10(a.xMin)) / (Math.log10(a.xMax) - Math.log10(a.xMin))) * (a.x1 - a.x0);
const py = (a: LogAxes, y: number) => a.y1 - ((Math.log10(y) - Math.log10(a.yMin)) / (Math.log10(a.yMax) - Math.log10(a.yMin))) * (a.y1 - a.y0);

function logGrid(a: LogAxes, xTitle: string, yTitle: string, xTicks: readonly number[], yTicks: readonly number[]): string {
  let out = el('rect', { x: a.x0, y: a.y0, width: a.x1 - a.x0, height: a.y1 - a.y0, fill: 'none', stroke: 'currentColor', 'stroke-opacity': 0.5 });
  for (const t of xTicks) {
    const x = round(px(a, t));
    out += el('path', { d: `M${x} ${a.y0}V${a.y1}`, stroke: 'currentColor', 'stroke-opacity': 0.12 });
    out += text(x, a.y1 + 16, tickLabel(t), { 'text-anchor': 'middle', fill: 'currentColor', 'font-size': 11 });
  }
  for (const t of yTicks) {
    const y = round(py(a, t));
    out += el('path', { d: `M${a.x0} ${y}H${a.x1}`, stroke: 'currentColor', 'stroke-opacity': 0.12 });
    out += text(a.x0 - 6, y + 4, tickLabel(t), { 'text-anchor': 'end', fill: 'currentColor', 'font-size': 11 });
  }
  out += text((a.x0 + a.x1) / 2, a.y1 + 38, xTitle, { 'text-anchor': 'middle', fill: 'currentColor' });
  const cy = (a.y0 + a.y1) / 2;
  out += text(a.x0 - 48, cy, yTitle, { 'text-anchor': 'middle', fill: 'currentColor', transform: `rotate(-90 ${a.x0 - 48} ${round(cy)})` });
  return out;
}

function tickLabel(t: number): string {
  return t >= 1000 && t % 1000 === 0 ? `${t / 1000}k` : String(t);
}

function legend(x: number, y: number): string {
  return ROOFLINE_SERIES.map(
    (s, i) =>
      el('circle', { cx: x, cy: y + i * 18, r: 5, fill: s.color }) +
      text(x + 10, y + i * 18 + 4, s.label, { fill: 'currentColor', 'font-size': 11 }),
  ).join('');
}

/**
 * The roofline: attainable useful TFLOP/s against arithmetic intensity, with every modelled problem on it.
 * Points left of the ridge are memory-bound; sparsity moves a problem left (less work per byte of A).
 */
export function rooflineFigure(device: DevicePeak, points: readonly RooflinePoint[]): string {
  const a: LogAxes = { x0: 70, x1: 640, y0: 40, y1: 330, xMin: 0.1, xMax: 10000, yMin: 0.1, yMax: 400 };
  const peak = device.flopsPerSecond / 1e12;
  const ridge = device.flopsPerSecond / device.bytesPerSecond;
  const bw = device.bytesPerSecond / 1e12;
  let body = logGrid(a, 'arithmetic intensity (useful FLOP per byte moved)', 'attainable TFLOP/s (useful work)', [0.1, 1, 10, 100, 1000, 10000], [0.1, 1, 10, 100]);
  // The roof: min(peak, intensity × bandwidth).
  const xStart = a.xMin;
  body += el('path', {
    d: `M${round(px(a, xStart))} ${round(py(a, xStart * bw))}L${round(px(a, ridge))} ${round(py(a, peak))}H${a.x1}`,
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': 2.5,
  });
  body += el('path', { d: `M${round(px(a, ridge))} ${a.y0}V${a.y1}`, stroke: 'currentColor', 'stroke-dasharray': '4 4', 'stroke-opacity': 0.6 });
  body += text(px(a, ridge) + 6, a.y1 - 8, `ridge ${ridge.toFixed(1)} FLOP/B`, { fill: 'currentColor', 'font-size': 11 });
  body += text(px(a, ridge) + 10, py(a, peak) - 8, `FP32 peak ${peak.toFixed(1)} TFLOP/s`, { fill: 'currentColor', 'font-size': 11 });
  body += text(px(a, 0.3), py(a, 0.3 * bw) - 10, `${bw.toFixed(1)} TB/s`, { fill: 'currentColor', 'font-size': 11, transform: `rotate(-33 ${round(px(a, 0.3))} ${round(py(a, 0.3 * bw) - 10)})` });
  body += text(a.x0 + 8, a.y0 + 16, 'memory-bound ←', { fill: 'currentColor', 'font-size': 11, 'font-style': 'italic' });
  body += text(a.x1 - 8, a.y0 + 16, '→ compute-bound', { fill: 'currentColor', 'font-size': 11, 'font-style': 'italic', 'text-anchor': 'end' });
  for (const s of ROOFLINE_SERIES) {
    for (const p of points.filter((q) => q.label === s.label)) {
      body += el('circle', {
        cx: round(px(a, p.arithmeticIntensity)),
        cy: round(py(a, p.usefulFlopsPerSecond / 1e12)),
        r: 4.5,
        fill: s.color,
        'fill-opacity': 0.85,
      }, el('title', {}, `${s.label}, M=${p.shape.m}: ${p.arithmeticIntensity.toFixed(1)} FLOP/B, ${p.bound}-bound`));
    }
  }
  // Label M once, on the dense series, below its points, skipping labels that would overlap the previous one.
  let lastLabelX = Number.NEGATIVE_INFINITY;
  for (const p of points.filter((q) => q.pattern === undefined)) {
    const x = px(a, p.arithmeticIntensity);
    if (x - lastLabelX < 52) continue;
    lastLabelX = x;
    body += text(x, py(a, p.usefulFlopsPerSecond / 1e12) + 18, `M=${p.shape.m}`, {
      'text-anchor': 'middle',
      fill: '#6b7280',
      'font-size': 10,
    });
  }
  body += legend(a.x1 + 24, a.y0 + 10);
  const { n, k } = points[0].shape;
  body += text(a.x1 + 16, a.y0 + 100, `N = ${n}, K = ${k}`, { fill: 'currentColor', 'font-size': 11 });
  body += text(a.x1 + 16, a.y0 + 116, device.name, { fill: 'currentColor', 'font-size': 11 });
  return svgDocument(800, 380, `Roofline of N:M SpMM on ${device.name}`, body);
}

/**
 * The payoff: the ceiling on effective (dense-equivalent) TFLOP/s against M. Memory-bound problems gain from
 * moving fewer weight bytes; compute-bound ones from doing less work; the plateau is peak / density.
 */
export function effectiveCeilingFigure(device: DevicePeak, points: readonly RooflinePoint[]): string {
  const ms = ROOFLINE_M;
  const a: LogAxes = { x0: 70, x1: 640, y0: 30, y1: 320, xMin: ms[0], xMax: ms[ms.length - 1], yMin: 0.1, yMax: 1000 };
  let body = logGrid(a, 'M (rows of A: tokens × batch)', 'effective TFLOP/s ceiling (2·M·N·K / time)', ms, [0.1, 1, 10, 100, 1000]);
  for (const s of ROOFLINE_SERIES) {
    const series = points.filter((p) => p.label === s.label);
    const d = series.map((p, i) => `${i ? 'L' : 'M'}${round(px(a, p.shape.m))} ${round(py(a, p.effectiveFlopsPerSecond / 1e12))}`).join('');
    body += el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2 });
    for (const p of series) {
      body += el('circle', {
        cx: round(px(a, p.shape.m)),
        cy: round(py(a, p.effectiveFlopsPerSecond / 1e12)),
        r: 4,
        fill: p.bound === 'compute' ? s.color : '#ffffff',
        stroke: s.color,
        'stroke-width': 2,
      }, el('title', {}, `${s.label}, M=${p.shape.m}: ≤ ${(p.effectiveFlopsPerSecond / 1e12).toFixed(2)} effective TFLOP/s, ${p.bound}-bound`));
    }
  }
  body += legend(a.x1 + 24, a.y0 + 10);
  body += el('circle', { cx: a.x1 + 24, cy: a.y0 + 96, r: 4, fill: '#ffffff', stroke: 'currentColor', 'stroke-width': 2 });
  body += text(a.x1 + 34, a.y0 + 100, 'memory-bound', { fill: 'currentColor', 'font-size': 11 });
  body += el('circle', { cx: a.x1 + 24, cy: a.y0 + 114, r: 4, fill: 'currentColor' });
  body += text(a.x1 + 34, a.y0 + 118, 'compute-bound', { fill: 'currentColor', 'font-size': 11 });
  return svgDocument(800, 370, `Effective TFLOP/s ceiling of N:M SpMM against M on ${device.name}`, body);
}

/** Human form of a series label for tables. */
export function seriesLabel(pattern: NMPattern | undefined): string {
  return pattern ? describePattern(pattern) : 'dense';
}
