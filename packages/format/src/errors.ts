/**
 * Typed errors shared by every package. Each carries a stable `code` and a marker registered with
 * `Symbol.for`, so `NMError.isInstance` works even when two copies of this package are loaded.
 */
const MARKER = Symbol.for('@nmkit/format/error');

/** Machine-readable error kinds. */
export type NMErrorCode =
  | 'PATTERN'
  | 'SHAPE'
  | 'FORMAT'
  | 'MASK'
  | 'CONTAINER'
  | 'LIMIT'
  | 'UNAVAILABLE'
  | 'DEVICE'
  | 'DISPOSED';

/** Base class of every error thrown by nmkit packages. */
export class NMError extends Error {
  readonly [MARKER] = true;
  readonly code: NMErrorCode;
  /** What the caller can do about it, when we know. Also appended to `message`. */
  readonly fix?: string;

  constructor(code: NMErrorCode, message: string, fix?: string, options?: { cause?: unknown }) {
    super(fix ? `${message} Fix: ${fix}` : message, options);
    this.name = new.target.name;
    this.code = code;
    this.fix = fix;
  }

  /** True for any nmkit error, including ones thrown by another copy of the package. */
  static isInstance(value: unknown): value is NMError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** A sparsity pattern that the format does not allow (for example keep > group). */
export class PatternError extends NMError {
  constructor(message: string, fix?: string) {
    super('PATTERN', message, fix);
  }
}

/** Operand shapes that do not fit together. The message names every operand's shape. */
export class ShapeError extends NMError {
  constructor(message: string, fix?: string) {
    super('SHAPE', message, fix);
  }
}

/** A compressed matrix whose arrays are inconsistent (lengths, index range, index order, padding). */
export class FormatError extends NMError {
  constructor(message: string, fix?: string) {
    super('FORMAT', message, fix);
  }
}

/** A caller's 0/1 mask that is not N:M. The message names the first window and vector that break it. */
export class MaskError extends NMError {
  constructor(
    message: string,
    readonly window: number,
    readonly vector: number,
    fix?: string,
  ) {
    super('MASK', message, fix);
  }
}

/** A container file that is truncated, corrupted, from a newer version, or hostile. */
export class ContainerError extends NMError {
  constructor(message: string, fix?: string) {
    super('CONTAINER', message, fix);
  }
}

/** A problem that exceeds a limit of the format or of a backend's device. */
export class LimitError extends NMError {
  constructor(message: string, fix?: string) {
    super('LIMIT', message, fix);
  }
}

/** A backend that cannot run here (no GPU, no adapter, no addon...). `reason` is the diagnosis. */
export class BackendUnavailableError extends NMError {
  constructor(
    readonly backend: string,
    readonly reason: string,
    fix?: string,
  ) {
    super('UNAVAILABLE', `Backend "${backend}" is unavailable: ${reason}.`, fix);
  }
}

/** A failure reported by a device API (CUDA error string, WebGPU validation or device loss). */
export class DeviceError extends NMError {
  constructor(
    readonly backend: string,
    message: string,
    fix?: string,
    options?: { cause?: unknown },
  ) {
    super('DEVICE', `${backend}: ${message}`, fix, options);
  }
}

/** Use of prepared weights or a backend after `dispose()`. */
export class DisposedError extends NMError {
  constructor(what: string, fix = 'prepare the weights again, or create a new backend.') {
    super('DISPOSED', `${what} has been disposed.`, fix);
  }
}
