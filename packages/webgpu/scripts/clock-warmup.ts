// Holds the GPU at its working clocks before a timing. An H100 left idle for a few tenths of a second drops its SM
// clock from 1980 to 345 MHz, and short bursts of work (a tuning timing: a handful of sub-millisecond calls between
// seconds of CPU work) do not bring it back: run 85 and a split-K sweep timed the same kernels 2–5× slower that way.
// A busy loop on a device of its own for a few hundred milliseconds brings the clock up for the timing that follows.
import { acquireGpu } from '../src/index.js';

const BUSY_LOOP = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  var x = vec4<f32>(f32(gid.x), 1.0, 2.0, 3.0);
  for (var i = 0u; i < 4096u; i++) {
    x = fma(x, vec4<f32>(0.999), vec4<f32>(0.001));
    x = fma(x, vec4<f32>(1.001), vec4<f32>(-0.001));
  }
  if (x.x + x.y + x.z + x.w == 12345.678) {
    sink[gid.x] = x.x;
  }
}`;

/** A GPU busy loop on a device of its own: `warm(ms)` keeps the GPU busy for about that long. */
export async function createClockWarmup(): Promise<{ warm(ms: number): Promise<void>; dispose(): void }> {
  const adapter = await (await acquireGpu()).requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter for the clock warm-up');
  const device = await adapter.requestDevice();
  const sink = device.createBuffer({ size: 4 * 256 * 1024, usage: GPUBufferUsage.STORAGE });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: BUSY_LOOP }), entryPoint: 'main' } });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: sink } }] });
  return {
    async warm(ms: number) {
      for (const end = performance.now() + ms; performance.now() < end; ) {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        for (let i = 0; i < 8; i++) pass.dispatchWorkgroups(1024);
        pass.end();
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
      }
    },
    dispose() {
      sink.destroy();
      device.destroy();
    },
  };
}
