import { ShapeError } from './errors.js';

/**
 * A dense row-major float32 matrix: element (r, c) is `data[r * cols + c]`.
 * @example const a = denseMatrix(2, 3, new Float32Array([1, 2, 3, 4, 5, 6]));
 */
export interface DenseMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/**
 * Wraps (or allocates, zero-filled) a row-major matrix after checking that `data` has rows·cols elements.
 * @throws {ShapeError} when the dimensions are not non-negative integers or the length does not match.
 */
export function denseMatrix(rows: number, cols: number, data?: Float32Array): DenseMatrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new ShapeError(`Matrix dimensions must be non-negative integers, got ${rows}×${cols}.`);
  }
  const buffer = data ?? new Float32Array(rows * cols);
  if (!(buffer instanceof Float32Array)) {
    throw new ShapeError(`Matrix data must be a Float32Array, got ${describeValue(buffer)}.`);
  }
  if (buffer.length !== rows * cols) {
    throw new ShapeError(
      `Matrix data has ${buffer.length} elements but a ${rows}×${cols} matrix needs ${rows * cols}.`,
      'pass row-major data of length rows·cols.',
    );
  }
  return { rows, cols, data: buffer };
}

/** `rows×cols`, for messages. */
export function shapeOf(matrix: { rows: number; cols: number }): string {
  return `${matrix.rows}×${matrix.cols}`;
}

/** Checks a value claimed to be a DenseMatrix (shape, type, length). Used at every public entry point. */
export function assertDenseMatrix(value: DenseMatrix, name: string): void {
  if (typeof value !== 'object' || value === null) {
    throw new ShapeError(`Operand ${name} must be a DenseMatrix {rows, cols, data}, got ${describeValue(value)}.`);
  }
  const { rows, cols, data } = value;
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new ShapeError(`Operand ${name} has invalid dimensions ${rows}×${cols}.`);
  }
  if (!(data instanceof Float32Array)) {
    throw new ShapeError(`Operand ${name} data must be a Float32Array, got ${describeValue(data)}.`);
  }
  if (data.length !== rows * cols) {
    throw new ShapeError(
      `Operand ${name} is ${rows}×${cols} (${rows * cols} elements) but its data has ${data.length}.`,
      'pass row-major data of length rows·cols.',
    );
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
