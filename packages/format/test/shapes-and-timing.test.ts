import { describe, expect, it } from 'vitest';
import {
  assertRunnable,
  type BackendCapabilities,
  capabilityProblem,
  DEFAULT_DEVICE_LIMITS,
  denseMatrix,
  LimitError,
  nmPattern,
  type PreparedWeights,
  planTiling,
  randomDense,
  ShapeError,
  summarizeTimings,
  timingRuns,
} from '../src/index.js';

const capabilities: BackendCapabilities = {
  dtypes: ['float32'],
  maxGroup: 256,
  vectorLengths: 'any',
  fastPaths: 'none',
  limits: { maxBufferBytes: 4096, maxDimension: 1024 },
  timing: 'host',
};

const weights = (rows: number, cols: number): PreparedWeights => ({
  kind: 'nm', backend: 'test', rows, cols, pattern: nmPattern(2, 4, 4), bytes: 0, disposed: false, dispose() {},
});

describe('dense matrices', () => {
  it.each([
    [1.5, 2],
    [-1, 2],
    [2, Number.NaN],
    [Number.POSITIVE_INFINITY, 1],
  ])('randomDense(%s, %s) and denseMatrix reject the dimensions with a ShapeError', (rows, cols) => {
    expect(() => randomDense(rows, cols)).toThrow(ShapeError);
    expect(() => randomDense(rows, cols)).toThrow(`got ${rows}×${cols}`);
    expect(() => denseMatrix(rows, cols)).toThrow(ShapeError);
  });

  it('refuses more elements than a Float32Array can hold with a LimitError naming the size', () => {
    expect(() => denseMatrix(1e6, 1e6)).toThrow(LimitError);
    expect(() => denseMatrix(1e6, 1e6)).toThrow(/1000000×1000000 matrix needs 1000000000000 float32 elements/);
    expect(() => randomDense(1e6, 1e6)).toThrow(LimitError);
  });

  it('still makes empty matrices', () => {
    expect(randomDense(0, 3)).toEqual({ rows: 0, cols: 3, data: new Float32Array(0) });
    expect(denseMatrix(4, 0).data.length).toBe(0);
  });
});

describe('empty dimensions are a ShapeError, not a limit', () => {
  it('assertRunnable refuses M = 0 naming both operands and the rule', () => {
    const error = (() => {
      try {
        assertRunnable('test', capabilities, denseMatrix(0, 16), weights(16, 8));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as Error).message).toMatch(/A 0×16 by B 16×8: M=0, but every dimension of C = A·B must be an integer ≥ 1/);
    expect((error as Error).message).not.toMatch(/split the problem/);
  });

  it('planTiling refuses a zero or fractional dimension with a ShapeError', () => {
    expect(() => planTiling({ m: 0, n: 8, k: 16 }, nmPattern(2, 4, 4), DEFAULT_DEVICE_LIMITS)).toThrow(ShapeError);
    expect(() => planTiling({ m: 4, n: 8, k: 1.5 }, undefined, DEFAULT_DEVICE_LIMITS)).toThrow(/K=1.5.*integer ≥ 1/);
  });

  it('check() reasons say what a dimension must be', () => {
    expect(capabilityProblem('test', capabilities, { m: 0, n: 8, k: 16 }, undefined)).toMatch(/M=0: every dimension must be an integer ≥ 1/);
  });

  it('keeps LimitError for real limits', () => {
    expect(() => assertRunnable('test', capabilities, denseMatrix(65, 16), weights(16, 8))).toThrow(LimitError);
    expect(() => assertRunnable('test', capabilities, denseMatrix(65, 16), weights(16, 8))).toThrow(/A needs 4160 bytes, over test.s buffer limit of 4096 bytes/);
  });
});

describe('timing options and summaries', () => {
  it('fills in the documented defaults (3 warm-up, 10 timed runs)', () => {
    expect(timingRuns()).toEqual({ warmup: 3, repeats: 10 });
    expect(timingRuns({ warmup: 0, repeats: 1 })).toEqual({ warmup: 0, repeats: 1 });
    expect(timingRuns({ input: 'device-matrix' })).toEqual({ warmup: 3, repeats: 10 });
  });

  it.each([
    [{ repeats: 0 }, /repeats=0 is not an integer ≥ 1/],
    [{ repeats: 2.5 }, /repeats=2.5/],
    [{ repeats: Number.POSITIVE_INFINITY }, /repeats=Infinity/],
    [{ warmup: -1 }, /warmup=-1 is not an integer ≥ 0/],
    [{ warmup: Number.NaN }, /warmup=NaN/],
    [{ input: 'gpu' as never }, /input=gpu is not 'dense-matrix' or 'device-matrix'/],
  ])('rejects %o with a LimitError', (options, message) => {
    expect(() => timingRuns(options)).toThrow(LimitError);
    expect(() => timingRuns(options)).toThrow(message);
  });

  it('refuses to summarise no samples instead of returning a NaN median', () => {
    expect(() => summarizeTimings([], 'host')).toThrow(LimitError);
    expect(() => summarizeTimings([], 'host')).toThrow(/at least one sample/);
    expect(summarizeTimings([3, 1, 2], 'host')).toMatchObject({ medianMs: 2, minMs: 1, maxMs: 3 });
  });
});
