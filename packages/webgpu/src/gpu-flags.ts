/**
 * WebGPU enum bit values, spelled out so the library does not depend on the `GPUBufferUsage` / `GPUMapMode`
 * globals (absent in Node until a WebGPU implementation installs them). Values are fixed by the spec.
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

/** `GPUMapMode.READ`. */
export const MAP_READ = 0x0001;

/** `GPUShaderStage.COMPUTE`. */
export const SHADER_STAGE_COMPUTE = 0x4;
