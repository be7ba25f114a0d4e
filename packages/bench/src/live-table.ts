import type { BaselineResult, CaseResult } from './results.js';
import { baselineCells, caseCells, reasonOf, resultColumns } from './result-rows.js';
import type { ProgressSink } from './run-suite.js';

/** Column widths: wide enough for typical values; longer cells just push the line. */
const WIDTHS = [16, 22, 8, 10, 5, 11, 14, 11, 8, 8, 7, 8, 12];

/** Where the table writes: a stream with an optional TTY flag (process.stdout fits). */
export interface TableOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

function line(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' ').trimEnd();
}

/**
 * A live results table: rows are printed as they finish; on a TTY a progress bar is redrawn on the last line
 * with plain ANSI (carriage return + erase line), elsewhere only plain lines are written.
 * @example const table = new LiveTable(process.stdout, true); await runSuite({ ...context, progress: table });
 */
export class LiveTable implements ProgressSink {
  private total = 0;
  private done = 0;
  private label = '';
  private readonly widths: number[];
  private readonly startTime = performance.now();

  constructor(
    private readonly out: TableOutput,
    private readonly withTfjs: boolean,
  ) {
    this.widths = withTfjs ? WIDTHS : [...WIDTHS.slice(0, 8), ...WIDTHS.slice(9)];
  }

  start(totalSteps: number): void {
    this.total = totalSteps;
    this.print(line(resultColumns(this.withTfjs), this.widths));
    this.drawBar();
  }

  step(label: string): void {
    this.label = label;
    this.drawBar();
  }

  baseline(result: BaselineResult): void {
    this.done++;
    this.print(line(baselineCells(result, this.withTfjs), this.widths), reasonOf(result.measurement));
  }

  result(result: CaseResult): void {
    this.done++;
    this.print(line(caseCells(result, this.withTfjs), this.widths), reasonOf(result.measurement));
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\r\x1b[2K');
    const seconds = (performance.now() - this.startTime) / 1e3;
    this.out.write(`${this.done}/${this.total} measurements in ${seconds.toFixed(1)} s\n`);
  }

  private print(row: string, reason?: string): void {
    if (this.out.isTTY) this.out.write('\r\x1b[2K');
    this.out.write(`${row}\n`);
    if (reason) this.out.write(`    ↳ ${reason}\n`);
    this.drawBar();
  }

  private drawBar(): void {
    if (!this.out.isTTY || this.total === 0) return;
    const width = 30;
    const filled = Math.round((width * this.done) / this.total);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}`;
    this.out.write(`\r\x1b[2K${bar} ${this.label}`.slice(0, 160));
  }
}
