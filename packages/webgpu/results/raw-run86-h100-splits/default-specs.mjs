// The default spec of each run-86 problem on an H100-like context (node default-specs.mjs SHAPES_JSON > default-specs.json,
// after building packages/webgpu and packages/format).
import { backendPlan, kernelSpec, planStageKept, wantsUnion, tiledSharedBytes, workgroupsPerUnit } from '../../dist/index.js';
import { candidatePlans, nmPattern } from '../../../format/dist/index.js';
const limits = { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 };
const context = { limits, multiprocessors: 132, maxBindingBytes: 2 ** 31, maxWorkgroupsPerDimension: 65535, software: false };
const out = [];
for (const [m, n, k] of JSON.parse(process.argv[2])) for (const keep of [16, 12, 8, 4]) {
  const shape = { m, n, k };
  const pattern = nmPattern(keep, 32, 32);
  const plan = backendPlan(candidatePlans(shape, pattern, limits)[0], pattern, false, { shape, limits });
  const aRows = wantsUnion(pattern, plan, shape, limits.maxThreadsPerBlock) ? planStageKept(shape, pattern, plan) : undefined;
  const spec = kernelSpec(shape, pattern, plan, context, aRows, {}, 'waves');
  const c = spec.constants;
  const shared = tiledSharedBytes(c);
  out.push({ shape: `${m}×${n}×${k}`, pattern: `${keep}:32`, name: spec.name, splitK: spec.splitK, stages: spec.stages, tiles: spec.grid[0] * Math.ceil(m / c.BM), BM: c.BM, WG: c.WG, shared, perUnit: workgroupsPerUnit({ sharedBytes: shared, invocations: c.WG, accumulators: c.TM * c.TN }, 49152), tail: !!spec.tail });
}
console.log(JSON.stringify(out));
