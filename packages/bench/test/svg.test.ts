import { CpuReferenceBackend } from '@nmkit/cpu-ref';
import { H100_SXM, nmPattern } from '@nmkit/format';
import { describe, expect, it } from 'vitest';
import { backendDenseBaseline } from '../src/baselines.js';
import { rooflineChart, speedupChart } from '../src/charts.js';
import type { BenchResults } from '../src/results.js';
import { runSuite } from '../src/run-suite.js';
import { resolveSuite } from '../src/suites.js';
import { SvgWriter } from '../src/svg-writer.js';

const NUMERIC = new Set(['x', 'y', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'width', 'height']);

/** A tiny well-formedness check: balanced tags under one <svg> root, numeric coordinates, no NaN/Infinity. */
function checkSvg(text: string): { elements: Map<string, number> } {
  expect(text).not.toMatch(/NaN|Infinity|undefined/);
  const stack: string[] = [];
  const elements = new Map<string, number>();
  const tag = /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let roots = 0;
  for (let match = tag.exec(text); match; match = tag.exec(text)) {
    // Text between tags must not contain markup characters that failed to parse as a tag.
    expect(text.slice(last, match.index)).not.toMatch(/[<>]/);
    last = tag.lastIndex;
    const [, closing, name, attrs, selfClosing] = match;
    if (closing) {
      expect(stack.pop()).toBe(name);
      continue;
    }
    if (stack.length === 0) roots++;
    elements.set(name, (elements.get(name) ?? 0) + 1);
    for (const [, key, value] of attrs.matchAll(/([a-zA-Z][a-zA-Z0-9:-]*)="([^"]*)"/g)) {
      if (NUMERIC.has(key)) expect(value, `${name} ${key}`).toMatch(/^-?\d+(\.\d+)?$/);
      if (key === 'points') expect(value).toMatch(/^(-?\d+(\.\d+)?,-?\d+(\.\d+)?)( -?\d+(\.\d+)?,-?\d+(\.\d+)?)+$/);
    }
    if (!selfClosing) stack.push(name);
  }
  expect(text.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(text.trimStart().startsWith('<svg')).toBe(true);
  return { elements };
}

async function tinyResults(): Promise<BenchResults> {
  const backend = new CpuReferenceBackend();
  const suite = resolveSuite('custom', {
    shapes: [
      { m: 4, n: 64, k: 64 },
      { m: 16, n: 64, k: 96 },
    ],
    patterns: [nmPattern(16, 32, 32), nmPattern(8, 32, 32), nmPattern(4, 32, 32), nmPattern(2, 4, 1)],
    warmup: 0,
    repeats: 1,
  });
  const { cases, baselines } = await runSuite({
    suite,
    backends: [backend],
    baselines: [backendDenseBaseline(backend)!],
    seed: 1,
    peakFor: () => H100_SXM,
  });
  return {
    schema: 'nmkit-bench/1',
    suite: 'custom <&> "test"',
    description: 'test',
    settings: { warmup: 0, repeats: 1, seed: 1, shard: null, shapes: suite.shapes, patterns: suite.patterns },
    environment: {},
    backends: [{ name: 'cpu-ref', available: true, benchmarked: true, device: backend.device, peak: H100_SXM }],
    baselines,
    cases,
    startedAt: new Date(0).toISOString(),
    durationSeconds: 0,
  };
}

describe('SVG writer and charts', () => {
  it('escapes text and refuses non-finite coordinates', () => {
    const svg = new SvgWriter(100, 50).text(1, 2, 'a < b & "c"').line(0, 0, 10.123, 5);
    const text = svg.toString();
    checkSvg(text);
    expect(text).toContain('a &lt; b &amp; &quot;c&quot;');
    expect(text).toContain('x2="10.12"');
    expect(() => new SvgWriter(10, 10).circle(Number.NaN, 1, 1)).toThrow(/cx would be NaN/);
    expect(() => new SvgWriter(10, 10).polyline([[0, 0], [1, Number.POSITIVE_INFINITY]])).toThrow(/Infinity/);
  });

  it('draws a well-formed speedup chart with one line per backend and the ideal', async () => {
    const results = await tinyResults();
    const { elements } = checkSvg(speedupChart(results));
    expect(elements.get('polyline')).toBe(2); // ideal 1/ρ + cpu-ref
    expect(elements.get('circle')).toBe(4); // one point per sparsity (50, 75, 87.5 %; 2:4 shares 50 %)
  });

  it('draws a well-formed roofline with every measured case, the dense baselines and the H100 roof', async () => {
    const results = await tinyResults();
    const svg = rooflineChart(results);
    const { elements } = checkSvg(svg);
    expect(elements.get('circle')).toBe(results.cases.length);
    expect(elements.get('polyline')).toBe(1);
    expect(svg).toContain('NVIDIA H100 SXM');
  });

  it('still writes well-formed SVG when nothing was measured', async () => {
    const results = { ...(await tinyResults()), cases: [], baselines: [] };
    for (const svg of [speedupChart(results), rooflineChart(results)]) {
      checkSvg(svg);
      expect(svg).toMatch(/no (measured case|N:M case)/);
    }
  });
});
