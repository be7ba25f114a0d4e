import finiteCheckSource from './shaders/finite-check.wgsl';
import generalSource from './shaders/spmm-nm-general.wgsl';
import reduceSource from './shaders/split-k-reduce.wgsl';
import tailReduceSource from './shaders/split-tail-reduce.wgsl';
import streamSource from './shaders/spmm-nm-stream.wgsl';
import tiledSource from './shaders/spmm-nm-tiled.wgsl';
import transposeSource from './shaders/transpose-a.wgsl';
import { SHADER_STAGE_COMPUTE } from './gpu-flags.js';
import type { KernelSpec } from './kernel-spec.js';

/** The WGSL sources by name, as bundled. */
export const SHADERS = {
  tiled: tiledSource,
  stream: streamSource,
  general: generalSource,
  reduce: reduceSource,
  tailReduce: tailReduceSource,
  transposeA: transposeSource,
  finiteCheck: finiteCheckSource,
} as const;

/** Bind group layouts and compute pipelines of one device, cached by a key that encodes every specialisation. */
export class PipelineCache {
  readonly matmulLayout: GPUBindGroupLayout;
  readonly reduceLayout: GPUBindGroupLayout;
  readonly tailReduceLayout: GPUBindGroupLayout;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();

  constructor(private readonly device: GPUDevice) {
    const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
      binding,
      visibility: SHADER_STAGE_COMPUTE,
      buffer: { type },
    });
    // A, B values, slots, union rows, C, params, Aᵀ, B values again (as vec4s): one layout for every matmul kernel.
    this.matmulLayout = device.createBindGroupLayout({
      label: 'nmkit matmul',
      entries: [
        entry(0, 'read-only-storage'),
        entry(1, 'read-only-storage'),
        entry(2, 'read-only-storage'),
        entry(3, 'read-only-storage'),
        entry(4, 'storage'),
        entry(5, 'uniform'),
        entry(6, 'read-only-storage'),
        entry(7, 'read-only-storage'),
      ],
    });
    this.reduceLayout = device.createBindGroupLayout({
      label: 'nmkit split-k reduce',
      entries: [entry(0, 'read-only-storage'), entry(1, 'storage'), entry(2, 'uniform')],
    });
    this.tailReduceLayout = device.createBindGroupLayout({
      label: 'nmkit wave-tail reduce',
      entries: [entry(0, 'storage'), entry(1, 'uniform')],
    });
  }

  /** The pipeline for a kernel spec (created once per distinct shader + constants). */
  matmul(spec: KernelSpec): Promise<GPUComputePipeline> {
    return this.get(spec.shader, spec.constants as unknown as Record<string, number | boolean>, this.matmulLayout);
  }

  /** The split-K reduction pipeline. */
  reduce(): Promise<GPUComputePipeline> {
    return this.get('reduce', {}, this.reduceLayout);
  }

  /**
   * Aᵀ for the kernels that read it (same layout as the reduction: input, output, params); `vectorLoads` (K % 4 == 0)
   * reads A as vec4s (transpose-a.wgsl's `main_vec4`).
   */
  transposeA(vectorLoads = false): Promise<GPUComputePipeline> {
    return this.get('transposeA', {}, this.reduceLayout, vectorLoads ? 'main_vec4' : 'main');
  }

  /** The NaN/±Inf check of A beside calls on widened weights (same layout as the reduction: A, flag, params). */
  finiteCheck(): Promise<GPUComputePipeline> {
    return this.get('finiteCheck', {}, this.reduceLayout);
  }

  /** The wave-tail reduction pipeline (partials added into C in place). */
  tailReduce(): Promise<GPUComputePipeline> {
    return this.get('tailReduce', {}, this.tailReduceLayout);
  }

  /** Number of distinct pipelines created so far (tests check the cache key). */
  get size(): number {
    return this.pipelines.size;
  }

  private get(shader: keyof typeof SHADERS, constants: Record<string, number | boolean>, layout: GPUBindGroupLayout, entryPoint = 'main') {
    const key = `${pipelineKey(shader, constants)}${entryPoint === 'main' ? '' : `@${entryPoint}`}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      let module = this.modules.get(shader);
      if (!module) {
        module = this.device.createShaderModule({ code: SHADERS[shader], label: shader });
        this.modules.set(shader, module);
      }
      const numeric: Record<string, number> = {};
      for (const [name, value] of Object.entries(constants)) numeric[name] = typeof value === 'boolean' ? Number(value) : value;
      pipeline = this.device.createComputePipelineAsync({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint, constants: numeric },
      });
      pipeline.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }
}

/** `shader{NAME=value,...}` with names sorted: equal keys ⇔ identical specialisation. */
export function pipelineKey(shader: string, constants: Record<string, number | boolean>): string {
  const parts = Object.keys(constants)
    .sort()
    .map((name) => `${name}=${constants[name]}`);
  return `${shader}{${parts.join(',')}}`;
}
