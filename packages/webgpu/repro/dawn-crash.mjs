// Minimal reproduction attempt for the dawn.node 0.6.2 abort reported in shared/notes/toolchain.md:
// "in one process, a vector add over ≥ 2^16 floats followed by a 256³ matmul aborted the process".
// Plain WebGPU, no nmkit code. Each MODE varies one usage pattern suspected of triggering it:
//   careful          await every mapAsync, destroy buffers only after, destroy the device and drop dawn at exit
//   destroy-inflight destroy the vector-add buffers right after submit (work still queued)
//   no-await         submit the vector add, never wait for it, go straight to the matmul
//   leak-mapped      leave the read-back buffers mapped and the device alive; let Node exit on its own
//   exit-live        call process.exit() while the matmul is still queued
//   gc-pressure      drop every reference and force GC (node --expose-gc) between the two kernels
//   worker           run 'careful' inside a worker_thread (as vitest's `threads` pool does), then exit
//   two-workers      two worker_threads, each loading dawn.node and running 'careful' at the same time
// Usage: node dawn-crash.mjs MODE [N=65536] [SIZE=256]   (exit code 0 = ran cleanly)
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { create, globals } from 'webgpu';

const mode = isMainThread ? (process.argv[2] ?? 'careful') : workerData.mode;
if (isMainThread && (mode === 'worker' || mode === 'two-workers')) {
  const url = new URL(import.meta.url);
  const workers = Array.from({ length: mode === 'worker' ? 1 : 2 }, () =>
    new Worker(url, { workerData: { mode: 'careful' }, argv: process.argv.slice(3) }),
  );
  const codes = await Promise.all(workers.map((w) => new Promise((resolve) => w.on('exit', resolve))));
  console.log(`${mode}: workers exited with ${codes.join(', ')}`);
  process.exit(codes.every((c) => c === 0) ? 0 : 1);
}
const count = Number(process.argv[isMainThread ? 3 : 2] ?? 65536);
const size = Number(process.argv[isMainThread ? 4 : 3] ?? 256);
Object.assign(globalThis, globals);
let gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.log('no adapter');
  process.exit(2);
}
const device = await adapter.requestDevice();
device.lost.then((info) => console.log(`device lost: ${info.reason} ${info.message}`));
const S = GPUBufferUsage.STORAGE;

function buffer(data, usage = S) {
  const b = device.createBuffer({ size: data.byteLength, usage, mappedAtCreation: true });
  new Float32Array(b.getMappedRange()).set(data);
  b.unmap();
  return b;
}

function pipeline(code) {
  return device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
}

async function run(code, inputs, outFloats, groups, awaitIt) {
  const p = pipeline(code);
  const out = device.createBuffer({ size: outFloats * 4, usage: S | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: outFloats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const all = [...inputs, out];
  const bind = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: all.map((b, i) => ({ binding: i, resource: { buffer: b } })) });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(p);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(...groups);
  pass.end();
  enc.copyBufferToBuffer(out, 0, read, 0, outFloats * 4);
  device.queue.submit([enc.finish()]);
  if (mode === 'destroy-inflight') for (const b of all) b.destroy();
  if (!awaitIt) return undefined;
  await read.mapAsync(GPUMapMode.READ);
  const result = new Float32Array(read.getMappedRange().slice(0));
  if (mode !== 'leak-mapped') {
    read.unmap();
    read.destroy();
    for (const b of all) b.destroy();
  }
  return result;
}

const x = new Float32Array(count).map((_, i) => i);
const add = await run(
  `@group(0) @binding(0) var<storage, read> a: array<f32>;
   @group(0) @binding(1) var<storage, read> b: array<f32>;
   @group(0) @binding(2) var<storage, read_write> c: array<f32>;
   @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
     if (id.x < arrayLength(&c)) { c[id.x] = a[id.x] + b[id.x]; } }`,
  [buffer(x), buffer(x)],
  count,
  [Math.ceil(count / 64)],
  mode !== 'no-await' && mode !== 'destroy-inflight',
);
if (add && add[count - 1] !== 2 * (count - 1)) throw new Error(`vector add wrong: ${add[count - 1]}`);
if (mode === 'gc-pressure' && globalThis.gc) for (let i = 0; i < 5; i++) globalThis.gc();

const a = new Float32Array(size * size).fill(1);
const mm = run(
  `@group(0) @binding(0) var<storage, read> a: array<f32>;
   @group(0) @binding(1) var<storage, read> b: array<f32>;
   @group(0) @binding(2) var<storage, read_write> c: array<f32>;
   @compute @workgroup_size(16, 16) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
     let n = ${size}u; if (id.x >= n || id.y >= n) { return; }
     var s = 0.0; for (var k = 0u; k < n; k++) { s += a[id.y * n + k] * b[k * n + id.x]; }
     c[id.y * n + id.x] = s; }`,
  [buffer(a), buffer(a)],
  size * size,
  [size / 16, size / 16],
  mode !== 'exit-live',
);
if (mode === 'exit-live') process.exit(0);
const c = await mm;
if (c[0] !== size) throw new Error(`matmul wrong: ${c[0]}`);
console.log(`${mode}: ok (vector add ${count}, matmul ${size}³)`);
if (mode === 'careful') {
  device.destroy();
  gpu = undefined;
}
