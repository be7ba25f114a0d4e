/**
 * `@nmkit/cpu-ref`: CPU backends for N:M SpMM. `cpu-ref` is the plain oracle; `cpu` (the fast kernel) follows
 * the shared tiling plan and uses every core.
 */
export * from './reference-backend.js';
export * from './prepared.js';
