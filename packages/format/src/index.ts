/**
 * `@nmkit/format`: the N:M format (pattern, compression, pruning, validation, container file), the performance
 * model, the tiling plan, and the one backend contract with its registry. No device code lives here.
 */
export * from './errors.js';
export * from './pattern.js';
export * from './dense.js';
export * from './compressed.js';
export * from './prune.js';
export * from './widen.js';
export * from './reference.js';
export * from './random.js';
export * from './crc32.js';
export * from './container.js';
export * from './perf-model.js';
export * from './tiling-plan.js';
export * from './backend.js';
export * from './backend-checks.js';
export * from './host-matrix.js';
export * from './last-use.js';
export * from './registry.js';
