import {
  formatMs,
  formatPattern,
  formatPercent,
  formatShape,
  formatSpeedup,
  formatTflops,
} from './format-number.js';
import type { BaselineResult, CaseResult, Measurement } from './results.js';

/** Column headers shared by the terminal table and the Markdown summary. */
export function resultColumns(withTfjs: boolean): string[] {
  return [
    'M×N×K',
    'kernel',
    'backend',
    'median ms',
    '±',
    'eff TFLOP/s',
    'useful TFLOP/s',
    '× own dense',
    ...(withTfjs ? ['× tfjs'] : []),
    '% of 1/ρ',
    '% peak',
    'bound',
    'check',
  ];
}

function checkCell(m: Measurement): string {
  if (m.status === 'ok') return m.verification ? `ok ${m.verification.checkedEntries}/${m.verification.totalEntries}` : 'ok';
  if (m.status === 'skipped') return 'skipped';
  return m.status === 'wrong' ? 'WRONG' : 'ERROR';
}

function timeCells(m: Measurement): [string, string] {
  return m.stats ? [formatMs(m.stats.medianMs), formatPercent(100 * m.stats.relativeSpread)] : ['—', '—'];
}

/** The cells of a dense baseline row. */
export function baselineCells(b: BaselineResult, withTfjs: boolean): string[] {
  return [
    formatShape(b.shape),
    'dense',
    b.owner,
    ...timeCells(b.measurement),
    b.effectiveTflops === undefined ? '—' : formatTflops(b.effectiveTflops),
    b.effectiveTflops === undefined ? '—' : formatTflops(b.effectiveTflops),
    '',
    ...(withTfjs ? [''] : []),
    '',
    '',
    '',
    checkCell(b.measurement),
  ];
}

/** The cells of an N:M case row. */
export function caseCells(c: CaseResult, withTfjs: boolean): string[] {
  const x = c.metrics;
  return [
    formatShape(c.shape),
    formatPattern(c.pattern),
    c.backend,
    ...timeCells(c.measurement),
    x ? formatTflops(x.effectiveTflops) : '—',
    x ? formatTflops(x.usefulTflops) : '—',
    x ? formatSpeedup(x.speedupOverOwnDense) : '—',
    ...(withTfjs ? [x ? formatSpeedup(x.speedups.tfjs) : '—'] : []),
    x ? formatPercent(x.percentOfIdeal) : '—',
    x ? formatPercent(x.percentOfPeak) : '—',
    c.model.bound ?? 'n/a',
    checkCell(c.measurement),
  ];
}

/** The reason line printed under a row that was skipped, wrong or failed. */
export function reasonOf(m: Measurement): string | undefined {
  return m.status === 'ok' ? undefined : `${m.status}: ${m.reason ?? 'no reason given'}`;
}
