import type { BackendCapabilities, DeviceMatrix, NMBackend, PreparedWeights } from './backend.js';
import { assertMatmulShapes } from './compressed.js';
import { assertDenseMatrix, type DenseMatrix } from './dense.js';
import { DisposedError, LimitError, NMError, ShapeError } from './errors.js';
import { assertPattern, describePattern, type NMPattern } from './pattern.js';
import { assertMatmulDimensions, type MatmulShape } from './tiling-plan.js';

/**
 * The checks every backend shares: a valid pattern within the declared capabilities, and every buffer within
 * the device limits. Returns the reason it cannot run, or `undefined` when it can. Never throws.
 */
export function capabilityProblem(
  backend: string,
  capabilities: BackendCapabilities,
  shape: MatmulShape,
  pattern: NMPattern | undefined,
): string | undefined {
  const { m, n, k } = shape;
  for (const [name, value] of [['M', m], ['N', n], ['K', k]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) return `${name}=${value}: every dimension must be an integer ≥ 1`;
    if (value > capabilities.limits.maxDimension) {
      return `${name}=${value} exceeds ${backend}'s largest dimension ${capabilities.limits.maxDimension}`;
    }
  }
  if (pattern) {
    try {
      assertPattern(pattern);
    } catch (error) {
      return error instanceof NMError ? error.message : String(error);
    }
    if (pattern.group > capabilities.maxGroup) {
      return `pattern ${describePattern(pattern)} has group ${pattern.group} > ${backend}'s maximum ${capabilities.maxGroup}`;
    }
    const vs = capabilities.vectorLengths;
    if (vs !== 'any' && !vs.includes(pattern.vectorLength)) {
      return `${backend} supports vector lengths ${vs.join(', ')}, not ${pattern.vectorLength}`;
    }
  }
  const keptRows = pattern ? Math.ceil(k / pattern.group) * pattern.keep : k;
  const buffers: [string, number][] = [
    ['A', m * k * 4],
    ['B', keptRows * n * 4],
    ['C', m * n * 4],
  ];
  for (const [name, bytes] of buffers) {
    if (bytes > capabilities.limits.maxBufferBytes) {
      return `operand ${name} needs ${bytes} bytes, over ${backend}'s buffer limit of ${capabilities.limits.maxBufferBytes} bytes`;
    }
  }
  return undefined;
}

/**
 * Validates a multiplication's operands before any device work: A's shape and data, weights owned by this
 * backend and not disposed, K matching, every dimension ≥ 1, and every limit.
 * @throws {ShapeError} for foreign weights, a K mismatch or an empty dimension; {@link DisposedError};
 * {@link LimitError} for a problem over the backend's limits.
 */
export function assertRunnable(
  backend: string,
  capabilities: BackendCapabilities,
  a: DenseMatrix,
  weights: PreparedWeights,
): void {
  assertWeightsOf(backend, weights);
  assertMatmulShapes(a, weights, weightsName(weights));
  assertWithinLimits(backend, capabilities, a, weights);
}

/**
 * {@link assertRunnable} for {@link NMBackend.matmulDevice}: A must be a live {@link DeviceMatrix} of this backend.
 * @throws {ShapeError} for an A or weights of another backend (or not a device matrix), a K mismatch or an empty
 * dimension; {@link DisposedError} for disposed operands; {@link LimitError} over the backend's limits.
 */
export function assertRunnableOnDevice(
  backend: string,
  capabilities: BackendCapabilities,
  a: DeviceMatrix,
  weights: PreparedWeights,
): void {
  assertDeviceMatrixOf(backend, a, 'A');
  assertWeightsOf(backend, weights);
  const bName = weightsName(weights);
  if (a.cols !== weights.rows) {
    throw new ShapeError(
      `Shape mismatch in C = A·${bName}: A (on the device) is ${a.rows}×${a.cols} and ${bName} is ${weights.rows}×${weights.cols}; ` +
        `A's columns (${a.cols}) must equal ${bName}'s rows (${weights.rows}).`,
      `pass A with ${weights.rows} columns (K), or weights with ${a.cols} rows.`,
    );
  }
  assertWithinLimits(backend, capabilities, a, weights);
}

/**
 * Validates an A for {@link NMBackend.upload} before any device work: a well-formed {@link DenseMatrix} no larger than
 * the backend's largest buffer.
 * @throws {ShapeError} for a malformed A; {@link LimitError} naming A's bytes and the limit.
 */
export function assertUploadable(backend: string, capabilities: BackendCapabilities, a: DenseMatrix): void {
  assertDenseMatrix(a, 'A');
  const bytes = a.data.length * 4;
  const limit = capabilities.limits.maxBufferBytes;
  if (bytes > limit) {
    throw new LimitError(
      `${backend} cannot hold A ${a.rows}×${a.cols}: ${bytes} bytes exceed its largest buffer of ${limit} bytes.`,
      'upload A in blocks of rows that fit (each row of C depends only on the same row of A).',
    );
  }
}

/**
 * Checks that `value` is a live {@link DeviceMatrix} made by `backend` (its own upload or product).
 * @throws {ShapeError} for anything else (a {@link DenseMatrix}, another backend's matrix); {@link DisposedError}.
 */
export function assertDeviceMatrixOf(backend: string, value: DeviceMatrix, name: string): void {
  if (typeof value !== 'object' || value === null || (value as { kind?: unknown }).kind !== 'device-matrix') {
    const host = typeof value === 'object' && value !== null && (value as { data?: unknown }).data instanceof Float32Array;
    throw new ShapeError(
      `${backend}: operand ${name} must be a DeviceMatrix from upload() or matmulDevice() of this backend${host ? ', got a host DenseMatrix' : ''}.`,
      host ? `upload it first (backend.upload(${name})), or call matmul() for host matrices.` : `make it with backend.upload().`,
    );
  }
  if (value.backend !== backend) {
    throw new ShapeError(
      `Operand ${name} (${value.rows}×${value.cols}) is on backend "${value.backend}" but was passed to "${backend}".`,
      `read() it and upload() it to ${backend}.`,
    );
  }
  if (value.disposed) {
    throw new DisposedError(`Device matrix ${name} (${value.rows}×${value.cols}) on ${backend}`, `upload ${name} again, and dispose it only after its last use.`);
  }
}

/** Weights of this backend, not disposed. */
function assertWeightsOf(backend: string, weights: PreparedWeights): void {
  if (typeof weights !== 'object' || weights === null || typeof weights.dispose !== 'function') {
    throw new ShapeError(`${backend}: weights must come from prepare() or prepareDense() of this backend.`);
  }
  if (weights.backend !== backend) {
    throw new ShapeError(
      `Weights were prepared by backend "${weights.backend}" but passed to "${backend}".`,
      `prepare them with the ${backend} backend.`,
    );
  }
  if (weights.disposed) throw new DisposedError(`Weights ${weights.rows}×${weights.cols} on ${backend}`);
}

function weightsName(weights: PreparedWeights): string {
  return weights.kind === 'nm' ? `B (${describePattern(weights.pattern)})` : 'B';
}

/** Every dimension ≥ 1 and within the backend's limits, for A (M×K) times weights (K×N). */
function assertWithinLimits(
  backend: string,
  capabilities: BackendCapabilities,
  a: { rows: number; cols: number },
  weights: PreparedWeights,
): void {
  const shape = { m: a.rows, n: weights.cols, k: a.cols };
  // An empty A (M = 0) is a valid DenseMatrix but not a runnable product: a shape problem, not a device limit.
  assertMatmulDimensions(shape, backend);
  const problem = capabilityProblem(backend, capabilities, shape, weights.pattern);
  if (problem) {
    throw new LimitError(
      `${backend} cannot run A ${a.rows}×${a.cols} · B ${weights.rows}×${weights.cols}: ${problem}.`,
      'split the problem into smaller products (fewer rows of A or columns of B per call), or use another backend.',
    );
  }
}
