/**
 * `@nmkit/format/conformance`: the suite every backend must pass, as data ({@link conformanceCases}) and as a
 * one-line vitest suite ({@link describeConformance}).
 */
export * from './cases.js';
export * from './vitest.js';
