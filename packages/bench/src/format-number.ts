/** Fixed-width-friendly number formatting shared by the terminal table and the Markdown summary. */

/** Milliseconds with 3 significant digits (µs-level times keep their digits). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toPrecision(3);
}

/** TFLOP/s: one decimal from 10 up, else three significant digits (CPU figures are in the thousandths), exponent below 10⁻³. */
export function formatTflops(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  if (value >= 10) return value.toFixed(1);
  return value >= 1e-3 || value === 0 ? value.toPrecision(3) : value.toExponential(2);
}

/** A ratio as `2.31×`. */
export function formatSpeedup(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return `${value.toFixed(2)}×`;
}

/** A percentage with no decimals (one below 10). */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)}%`;
}

/** `M×N×K`. */
export function formatShape(shape: { m: number; n: number; k: number }): string {
  return `${shape.m}×${shape.n}×${shape.k}`;
}

/** `8:32 V=32`. */
export function formatPattern(pattern: { keep: number; group: number; vectorLength: number }): string {
  return `${pattern.keep}:${pattern.group} V=${pattern.vectorLength}`;
}
