// `bench --transposes`: the Aᵀ pass (transpose-a.wgsl's `main_vec4`) against the candidates in
// transpose-variants.wgsl, each verified element by element (zeros past M and K included) and then timed in
// alternating rounds on one device, so that every variant sees the same clocks.
import { summarizeTimings } from '@nmkit/format';
import { acquireGpu, PipelineCache, timePasses, transposeGrid } from '../src/index.js';
import { createClockWarmup } from './clock-warmup.js';
import variantsSource from './transpose-variants.wgsl';

interface Variant {
  readonly name: string;
  readonly entryPoint: string;
  readonly constants?: Record<string, number>;
  /** Workgroups for an Aᵀ of `rows` rows × `quads` vec4s. */
  grid(rows: number, quads: number): [number, number, number];
}

const VARIANTS: Variant[] = [
  { name: 'hoisted', entryPoint: 'hoisted', grid: (rows, quads) => [Math.ceil(rows / 32), Math.ceil(quads / 16), 1] },
  ...[1, 2, 4].map((qpl) => ({ name: `regs${qpl}`, entryPoint: 'regs', constants: { QPL: qpl }, grid: (rows: number, quads: number) => [Math.ceil(rows / 64), Math.ceil(quads / (16 * qpl)), 1] as [number, number, number] })),
  // References, not transposes (timed, not checked): a straight copy of the same bytes, and its read and write halves.
  ...[['copy', 'copy'], ['read', 'read_only_pass'], ['write', 'write_only_pass']].map(([name, entryPoint]) => ({ name, entryPoint, grid: (rows: number, quads: number) => [1024, Math.ceil((rows * quads) / (256 * 1024)), 1] as [number, number, number] })),
  ...[16, 32].map((qpr) => ({ name: `swz${4 * qpr}`, entryPoint: 'swz', constants: { QPR: qpr }, grid: (rows: number, quads: number) => [Math.ceil(rows / 32), Math.ceil(quads / qpr), 1] as [number, number, number] })),
];

/** Entry points that move the same bytes without transposing (timed, not verified). */
const BANDWIDTH_REFERENCES = new Set(['copy', 'read', 'write']);

export interface TransposeCase {
  readonly m: number;
  readonly k: number;
  /** Rows and vec4s per row of Aᵀ (the planner pads both). */
  readonly rows: number;
  readonly quads: number;
}

export interface TransposeTiming {
  readonly shape: TransposeCase;
  readonly variant: string;
  /** Every element checked (zeros past M and K included); `undefined` for the bandwidth references. */
  readonly verified: boolean | undefined;
  /** Median of each round's median pass time, µs, and every round's median. */
  readonly medianUs: number;
  readonly roundsUs: number[];
}

/** A device of its own for pass timings: timestamp queries and the adapter's largest buffers. */
export async function requestTimingDevice(): Promise<GPUDevice> {
  const adapter = await (await acquireGpu()).requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  return adapter.requestDevice({
    requiredFeatures: ['timestamp-query'],
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
}

/** The Aᵀ pass's buffers (A, Aᵀ, its uniform; `usage` added to the storage ones) and their bind group. */
export function transposeBindings(device: GPUDevice, cache: PipelineCache, shape: TransposeCase, usage = 0) {
  const { m, k, rows, quads } = shape;
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | usage;
  const a = device.createBuffer({ size: m * k * 4, usage: storage });
  const at = device.createBuffer({ size: rows * quads * 16, usage: storage });
  const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(params, 0, Uint32Array.of(m, k, rows, quads));
  const bindGroup = device.createBindGroup({ layout: cache.reduceLayout, entries: [a, at, params].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  return {
    a,
    at,
    bindGroup,
    destroy: () => {
      for (const buffer of [a, at, params]) buffer.destroy();
    },
  };
}

/** Device time of one compute pass, ms: the median of 20 after 3 warm-ups. */
export async function medianPassMs(device: GPUDevice, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, grid: [number, number, number]): Promise<number> {
  const ms = await timePasses(device, 23, (encoder, timestampWrites) => recordPass(encoder, pipeline, bindGroup, grid, timestampWrites), []);
  return summarizeTimings(ms.slice(3), 'device').medianMs;
}

function recordPass(encoder: GPUCommandEncoder, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, grid: [number, number, number], timestampWrites?: GPUComputePassTimestampWrites) {
  const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(...grid);
  pass.end();
}

/** Verifies and times `main_vec4` and every candidate on each case (K % 4 == 0); `rounds` alternating rounds. */
export async function compareTransposes(cases: TransposeCase[], rounds: number, log: (line: string) => void): Promise<TransposeTiming[]> {
  const device = await requestTimingDevice();
  const results: TransposeTiming[] = [];
  const warmup = await createClockWarmup();
  try {
    const cache = new PipelineCache(device);
    const module = device.createShaderModule({ code: variantsSource, label: 'transpose variants' });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [cache.reduceLayout] });
    const pipelines = new Map<string, { pipeline: GPUComputePipeline; grid: Variant['grid'] }>();
    pipelines.set('main_vec4', { pipeline: await cache.transposeA(true), grid: (rows, quads) => transposeGrid({ rows, quads }) });
    for (const v of VARIANTS) {
      const pipeline = await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: v.entryPoint, constants: v.constants } });
      pipelines.set(v.name, { pipeline, grid: v.grid });
    }
    for (const shape of cases) {
      const { m, k, rows, quads } = shape;
      if (k % 4 !== 0) throw new Error(`--transposes needs K % 4 == 0 (K = ${k})`);
      const host = new Float32Array(m * k);
      for (let i = 0; i < host.length; i++) host[i] = (Math.imul(i, 2654435761) >>> 0) / 2 ** 31 - 1;
      const bindings = transposeBindings(device, cache, shape, GPUBufferUsage.COPY_SRC);
      const { at, bindGroup } = bindings;
      device.queue.writeBuffer(bindings.a, 0, host);
      const readback = device.createBuffer({ size: rows * quads * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const pass = (name: string) => pipelines.get(name)!;
      const verified = new Map<string, boolean | undefined>();
      for (const name of pipelines.keys()) {
        if (BANDWIDTH_REFERENCES.has(name)) {
          verified.set(name, undefined);
          continue;
        }
        // Poison Aᵀ (NaN everywhere), run once, compare every element.
        device.queue.writeBuffer(at, 0, new Uint32Array(rows * quads * 4).fill(0x7fc00000));
        const encoder = device.createCommandEncoder();
        recordPass(encoder, pass(name).pipeline, bindGroup, pass(name).grid(rows, quads));
        encoder.copyBufferToBuffer(at, 0, readback, 0, rows * quads * 16);
        device.queue.submit([encoder.finish()]);
        await readback.mapAsync(GPUMapMode.READ);
        const got = new Float32Array(readback.getMappedRange().slice(0));
        readback.unmap();
        let bad = 0;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < 4 * quads; c++) {
            const want = r < k && c < m ? host[c * k + r] : 0;
            if (got[r * 4 * quads + c] !== want) bad++;
          }
        }
        verified.set(name, bad === 0);
        if (bad) log(`  ${name}: ${bad} wrong elements of ${rows * quads * 4}`);
      }
      // The checks above leave the GPU idle for seconds, its clocks low (clock-warmup.ts): 1 s busy first (run 85
      // used 0.3 s of these passes: its first round still ran some at about half speed).
      await warmup.warm(1000);
      const samples = new Map<string, number[]>([...pipelines.keys()].map((name) => [name, []]));
      for (let round = 0; round < rounds; round++) {
        for (const name of pipelines.keys()) {
          if (verified.get(name) === false) continue;
          samples.get(name)!.push((await medianPassMs(device, pass(name).pipeline, bindGroup, pass(name).grid(rows, quads))) * 1e3);
        }
      }
      for (const [name, roundsUs] of samples) {
        const ok = verified.get(name) !== false;
        const medianUs = ok ? summarizeTimings(roundsUs, 'device').medianMs : Number.NaN;
        results.push({ shape, variant: name, verified: verified.get(name), medianUs, roundsUs });
        const gbs = (2 * m * k * 4) / (medianUs * 1e3);
        log(`${m}×${k} (Aᵀ ${rows}×${4 * quads}) ${name.padEnd(9)} ${ok ? `${medianUs.toFixed(1)} µs (${gbs.toFixed(0)} GB/s; rounds ${roundsUs.map((u) => u.toFixed(1)).join(' ')})` : 'WRONG'}`);
      }
      bindings.destroy();
      readback.destroy();
    }
  } finally {
    warmup.dispose();
    device.destroy();
  }
  return results;
}

