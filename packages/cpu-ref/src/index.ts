/**
 * `@nmkit/cpu-ref`: CPU backends for N:M SpMM. `cpu-ref` is the plain oracle; `cpu` (the fast kernel) follows
 * the shared tiling plan and uses every core through worker threads (Node) or the calling thread (browsers).
 */
export * from './reference-backend.js';
export * from './prepared.js';
export * from './cpu-backend.js';
export * from './cpu-weights.js';
export * from './cpu-plan.js';
