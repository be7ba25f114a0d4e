/**
 * `@nmkit/cuda`: the CUDA backend of nmkit. Importing never throws; {@link cudaProvider}.create() says whether the
 * backend can run here and, if not, why and how to fix it.
 */
export { CudaBackend } from './cuda-backend.js';
export { CudaMatrix } from './cuda-matrix.js';
export { CudaWeights, type UploadedWeights } from './cuda-weights.js';
export { diagnoseProbe, MIN_COMPUTE_CAPABILITY } from './diagnose.js';
export { ADDON_PATH_ENV, type AddonAttempt, type AddonLoad, addonCandidates, diagnoseLoadFailure, loadAddon } from './native-loader.js';
export type { NativeAddon, NativeContext, NativeMatrix, NativePlan, NativeProbe, NativeUpload, NativeWeights } from './native-types.js';
export {
  type CudaDevice,
  type CudaPlan,
  cudaCandidatePlans,
  DECODE_ROWS,
  MAX_CLUSTER_SPLITS,
  MAX_DIMENSION,
  nativeFromTiling,
  type PlanInput,
  planCuda,
  STREAM_COLUMNS,
  STREAM_ROWS,
  TILED_CONFIGS,
  type TiledConfig,
  tiledCost,
  type WeightsInfo,
} from './planner.js';
export { type CudaBackendOptions, createCudaBackend, createCudaProvider, cudaProvider, DEVICE_ENV } from './provider.js';
export {
  hasTiledPath,
  MAX_STAGE_ROWS,
  MID_STAGE_KEPT,
  PER_VECTOR_MIN_FILL,
  padValues,
  retileForKernels,
  retileIndices,
  STAGE_KEPT,
  stageKeptRows,
  type Staging,
  TILE_N,
  type TiledLayout,
  UNUSED_ROW,
  WARP_N,
  WIDE_STAGE_KEPT,
  ZERO_ROW,
} from './retile.js';
export { WIDE_MIN_ROWS, WIDEN_MAX_GROWTH, type WidenMode, widenedCopyFor, widenedPatternBound } from './widening.js';
