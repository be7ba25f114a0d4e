/**
 * `@nmkit/webgpu`: N:M SpMM in WGSL for browsers and Node (Dawn). Weights stay on the GPU; kernels follow the
 * shared tiling plan; device loss is reported once and recovered from on the next call.
 */
export { createWebGPUBackend, type WebGPUBackendOptions, webgpuProvider } from './provider.js';
export { WebGPUBackend, WIDEN_MAX_GROWTH, type WidenMode } from './webgpu-backend.js';
export { GpuWeights } from './gpu-weights.js';
export { GpuMatrix } from './gpu-matrix.js';
export {
  type BackendPlanOptions,
  backendPlan,
  backendPlans,
  type ColumnMap,
  type KernelFootprint,
  type KernelOptions,
  type KernelSpec,
  kernelSpec,
  type SlotLayout,
  planStageKept,
  planStageWindows,
  windowPartKept,
  type PrefetchParts,
  type TiledConstants,
  tiledSharedBytes,
  UNION_WORTH_IT,
  type WaveTail,
  vectorTileTail,
  waveTail,
  decodeSplitK,
  fillSplitK,
  waveSplitK,
  wantsUnion,
  workgroupsPerUnit,
} from './kernel-spec.js';
export {
  STREAM_MAX_M,
  type StreamConstants,
  type StreamOptions,
  type StreamSpec,
  streamDefaultRows,
  streamProblem,
  streamSpec,
  type TransposedA,
  transposeFits,
  transposeGrid,
} from './stream-spec.js';
export { timePasses } from './pass-timing.js';
export { buildUnionRows, type StageRows, type UnionRows } from './union-rows.js';
export { PipelineCache, pipelineKey, SHADERS } from './pipelines.js';
export { type AcquireOptions, acquireGpu, type GpuContext, knownComputeUnits, NoGpuError, releaseNodeGpu } from './gpu-context.js';
export { scoped, throwIfFailed } from './error-scopes.js';
