import { LimitError, ShapeError } from './errors.js';

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
 * @throws {LimitError} when rows·cols elements are more than a Float32Array can hold here.
 */
export function denseMatrix(rows: number, cols: number, data?: Float32Array): DenseMatrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new ShapeError(
      `Matrix dimensions must be non-negative integers, got ${rows}×${cols}.`,
      'pass whole numbers of rows and columns.',
    );
  }
  const buffer = data ?? allocateElements(rows, cols);
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

/** A zero-filled Float32Array of rows·cols elements; the engine's RangeError becomes a LimitError naming the size. */
function allocateElements(rows: number, cols: number): Float32Array {
  const elements = rows * cols;
  try {
    return new Float32Array(elements);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // The largest typed array depends on the engine (2³² elements in Node 20) and on free memory.
    throw new LimitError(
      `A ${rows}×${cols} matrix needs ${elements} float32 elements, more than a Float32Array can hold here (${error.message}).`,
      'split the matrix into smaller blocks of rows or columns.',
    );
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
