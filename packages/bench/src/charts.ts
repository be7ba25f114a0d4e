import { formatPattern } from './format-number.js';
import type { BenchResults, CaseResult } from './results.js';
import { geometricMean } from './stats.js';
import { SvgWriter } from './svg-writer.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
const WIDTH = 720;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 190, top: 40, bottom: 55 };

/** A linear or log10 axis mapping data to pixels. */
function axis(lo: number, hi: number, from: number, to: number, log: boolean): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const a = f(lo);
  const b = f(hi) === a ? a + 1 : f(hi);
  return (v) => from + ((f(v) - a) / (b - a)) * (to - from);
}

function frame(svg: SvgWriter, title: string, xLabel: string, yLabel: string): void {
  const x0 = MARGIN.left;
  const y0 = HEIGHT - MARGIN.bottom;
  svg.rect(0, 0, WIDTH, HEIGHT, { fill: '#fff' });
  svg.text(WIDTH / 2 - MARGIN.right / 2, 22, title, { 'text-anchor': 'middle', 'font-size': 15 });
  svg.line(x0, y0, WIDTH - MARGIN.right, y0);
  svg.line(x0, y0, x0, MARGIN.top);
  svg.text((x0 + WIDTH - MARGIN.right) / 2, HEIGHT - 15, xLabel, { 'text-anchor': 'middle' });
  svg.text(18, (MARGIN.top + y0) / 2, yLabel, {
    'text-anchor': 'middle',
    transform: `rotate(-90 18 ${(MARGIN.top + y0) / 2})`,
  });
}

function legend(svg: SvgWriter, entries: readonly { label: string; color: string; dashed?: boolean }[]): void {
  const x = WIDTH - MARGIN.right + 15;
  entries.forEach((e, i) => {
    const y = MARGIN.top + 10 + i * 18;
    svg.line(x, y, x + 22, y, { stroke: e.color, 'stroke-width': 2, 'stroke-dasharray': e.dashed ? '5,4' : undefined });
    svg.text(x + 28, y + 4, e.label.length > 24 ? `${e.label.slice(0, 23)}…` : e.label);
  });
}

function noData(svg: SvgWriter, why: string): string {
  svg.text(WIDTH / 2 - MARGIN.right / 2, HEIGHT / 2, why, { 'text-anchor': 'middle', fill: '#777' });
  return svg.toString();
}

/** Round "nice" tick values between lo and hi (linear). */
function linearTicks(lo: number, hi: number, count = 6): number[] {
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toPrecision(10)));
  return ticks;
}

/**
 * Speedup over each backend's own dense baseline against sparsity, one line per backend (and per V when a run
 * mixes vector lengths), geometric mean over shapes, with the ideal 1/ρ dashed — the paper's figure.
 * @example writeFileSync('speedup.svg', speedupChart(results));
 */
export function speedupChart(results: BenchResults): string {
  const svg = new SvgWriter(WIDTH, HEIGHT);
  frame(svg, `N:M speedup over dense — ${results.suite}`, 'sparsity (1 − keep/group)', 'speedup over own dense baseline (geomean)');
  const vectorLengths = new Set(results.cases.map((c) => c.pattern.vectorLength));
  const series = new Map<string, Map<number, number[]>>();
  for (const c of results.cases) {
    const s = c.metrics?.speedupOverOwnDense;
    if (s === null || s === undefined || !(s > 0)) continue;
    const key = vectorLengths.size > 1 ? `${c.backend} V=${c.pattern.vectorLength}` : c.backend;
    const bySparsity = series.get(key) ?? new Map<number, number[]>();
    bySparsity.set(c.sparsity, [...(bySparsity.get(c.sparsity) ?? []), s]);
    series.set(key, bySparsity);
  }
  if (series.size === 0) return noData(svg, 'no N:M case has a measured dense baseline on its backend');
  const sparsities = [...new Set(results.cases.map((c) => c.sparsity))].sort((a, b) => a - b);
  const ideal = sparsities.map((s) => [s, 1 / (1 - s)] as const);
  const points = [...series.entries()].map(
    ([key, bySparsity]) =>
      [key, [...bySparsity.entries()].sort((a, b) => a[0] - b[0]).map(([s, xs]) => [s, geometricMean(xs)] as const)] as const,
  );
  const yMax = Math.max(...ideal.map((p) => p[1]), ...points.flatMap(([, ps]) => ps.map((p) => p[1]))) * 1.08;
  const xLo = Math.max(0, sparsities[0] - 0.05);
  const xHi = Math.min(1, sparsities[sparsities.length - 1] + 0.05);
  const x = axis(xLo, xHi, MARGIN.left, WIDTH - MARGIN.right, false);
  const y = axis(0, yMax, HEIGHT - MARGIN.bottom, MARGIN.top, false);
  for (const t of linearTicks(0, yMax)) {
    svg.line(MARGIN.left, y(t), WIDTH - MARGIN.right, y(t), { stroke: '#e5e5e5' });
    svg.text(MARGIN.left - 6, y(t) + 4, `${t}×`, { 'text-anchor': 'end' });
  }
  for (const s of sparsities) {
    svg.line(x(s), HEIGHT - MARGIN.bottom, x(s), HEIGHT - MARGIN.bottom + 5);
    svg.text(x(s), HEIGHT - MARGIN.bottom + 18, `${(100 * s).toFixed(s * 1000 === Math.round(s * 1000) ? 1 : 2)}%`, {
      'text-anchor': 'middle',
    });
  }
  svg.line(MARGIN.left, y(1), WIDTH - MARGIN.right, y(1), { stroke: '#999', 'stroke-dasharray': '2,3' });
  if (ideal.length > 1) {
    svg.polyline(
      ideal.map(([s, v]) => [x(s), y(v)]),
      { stroke: '#555', 'stroke-dasharray': '5,4', 'stroke-width': 1.5 },
    );
  }
  const entries: { label: string; color: string; dashed?: boolean }[] = [{ label: 'ideal 1/ρ', color: '#555', dashed: true }];
  points.forEach(([key, ps], i) => {
    const color = COLORS[i % COLORS.length];
    if (ps.length > 1) svg.polyline(ps.map(([s, v]) => [x(s), y(v)]), { stroke: color, 'stroke-width': 2 });
    for (const [s, v] of ps) svg.circle(x(s), y(v), 3.5, { fill: color });
    entries.push({ label: key, color });
  });
  legend(svg, entries);
  return svg.toString();
}

/** Powers of ten covering [lo, hi]. */
function decades(lo: number, hi: number): [number, number] {
  return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
}

/**
 * A roofline (log–log: arithmetic intensity in useful FLOP per byte against useful TFLOP/s) with each measured
 * case placed on it, one colour per backend, dense baselines as hollow squares, and each known device roof.
 * @example writeFileSync('roofline.svg', rooflineChart(results));
 */
export function rooflineChart(results: BenchResults): string {
  const svg = new SvgWriter(WIDTH, HEIGHT);
  frame(svg, `Roofline — ${results.suite}`, 'arithmetic intensity (useful FLOP / byte, log)', 'useful TFLOP/s (log)');
  const ok = results.cases.filter((c): c is CaseResult & { metrics: NonNullable<CaseResult['metrics']> } => !!c.metrics);
  const dense = results.baselines.filter((b) => b.effectiveTflops !== undefined && b.effectiveTflops > 0);
  const denseIntensity = (s: { m: number; n: number; k: number }) => (2 * s.m * s.n * s.k) / (4 * (s.m * s.k + s.k * s.n + s.m * s.n));
  if (ok.length === 0 && dense.length === 0) return noData(svg, 'no measured case');
  const roofs = results.backends.filter((b) => b.benchmarked && b.peak).map((b) => [b.name, b.peak!] as const);
  const xs = [...ok.map((c) => c.model.arithmeticIntensity), ...dense.map((b) => denseIntensity(b.shape))];
  const ys = [...ok.map((c) => c.metrics.usefulTflops), ...dense.map((b) => b.effectiveTflops!)];
  for (const [, peak] of roofs) {
    ys.push(peak.flopsPerSecond / 1e12);
    xs.push(peak.flopsPerSecond / peak.bytesPerSecond);
  }
  const [xLo, xHi] = decades(Math.min(...xs) / 1.5, Math.max(...xs) * 1.5);
  const [yLo, yHi] = decades(Math.min(...ys) / 1.5, Math.max(...ys) * 1.5);
  const x = axis(xLo, xHi, MARGIN.left, WIDTH - MARGIN.right, true);
  const y = axis(yLo, yHi, HEIGHT - MARGIN.bottom, MARGIN.top, true);
  for (let v = xLo; v <= xHi * 1.0001; v *= 10) {
    svg.line(x(v), MARGIN.top, x(v), HEIGHT - MARGIN.bottom, { stroke: '#e5e5e5' });
    svg.text(x(v), HEIGHT - MARGIN.bottom + 18, v >= 1 ? String(Math.round(v)) : v.toPrecision(1), { 'text-anchor': 'middle' });
  }
  for (let v = yLo; v <= yHi * 1.0001; v *= 10) {
    svg.line(MARGIN.left, y(v), WIDTH - MARGIN.right, y(v), { stroke: '#e5e5e5' });
    svg.text(MARGIN.left - 6, y(v) + 4, v >= 1 ? String(Math.round(v)) : v.toPrecision(1), { 'text-anchor': 'end' });
  }
  const entries: { label: string; color: string; dashed?: boolean }[] = [];
  const seenPeaks = new Set<string>();
  for (const [, peak] of roofs) {
    if (seenPeaks.has(peak.name)) continue;
    seenPeaks.add(peak.name);
    const ridge = peak.flopsPerSecond / peak.bytesPerSecond;
    const top = peak.flopsPerSecond / 1e12;
    const start = Math.max(xLo, (yLo * 1e12) / peak.bytesPerSecond);
    svg.polyline(
      [
        [x(start), y((start * peak.bytesPerSecond) / 1e12)],
        [x(ridge), y(top)],
        [x(xHi), y(top)],
      ],
      { stroke: '#333', 'stroke-width': 1.5, 'stroke-dasharray': '6,3' },
    );
    entries.push({ label: `roof: ${peak.name}`, color: '#333', dashed: true });
  }
  const backends = [...new Set([...ok.map((c) => c.backend), ...dense.map((b) => b.owner)])];
  backends.forEach((name, i) => {
    const color = COLORS[i % COLORS.length];
    for (const c of ok.filter((c) => c.backend === name)) {
      svg.circle(x(c.model.arithmeticIntensity), y(c.metrics.usefulTflops), 3, {
        fill: color,
        'fill-opacity': 0.75,
        'data-case': `${c.shape.m}x${c.shape.n}x${c.shape.k} ${formatPattern(c.pattern)}`,
      });
    }
    for (const b of dense.filter((b) => b.owner === name)) {
      const cx = x(denseIntensity(b.shape));
      const cy = y(b.effectiveTflops!);
      svg.rect(cx - 3.5, cy - 3.5, 7, 7, { fill: 'none', stroke: color, 'stroke-width': 1.5 });
    }
    entries.push({ label: name, color });
  });
  legend(svg, entries);
  svg.text(WIDTH - MARGIN.right + 15, HEIGHT - MARGIN.bottom, '● N:M case   □ dense baseline', { fill: '#555' });
  return svg.toString();
}
