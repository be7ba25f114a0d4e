import { candidatePlans, randomCompressed } from '@nmkit/format';
import { backendPlan, kernelSpec, planStageKept, wantsUnion, tiledSharedBytes } from '../src/kernel-spec.js';
import { buildUnionRows } from '../src/union-rows.js';
const limits = { maxSharedMemoryBytes: 32768, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 32 };
for (const [pattern, shape] of [[{ keep: 32, group: 128, vectorLength: 4 }, { m: 100, n: 1024, k: 1024 }], [{ keep: 64, group: 256, vectorLength: 4 }, { m: 16, n: 512, k: 777 }], [{ keep: 32, group: 64, vectorLength: 32 }, { m: 4096, n: 4096, k: 4096 }]] as const) {
  const base = candidatePlans(shape, pattern, limits)[0];
  const plan = backendPlan(base, pattern, false, { shape });
  const b = randomCompressed(shape.k, shape.n, pattern, 2);
  const u = buildUnionRows(b.indices, shape.k, shape.n, pattern, plan.block.n, planStageKept(shape, pattern, plan));
  console.log(JSON.stringify(base.block), base.variant, '->', JSON.stringify(plan), 'aRows', u.aRows, 'stageKept', planStageKept(shape, pattern, plan));
  const s = kernelSpec(shape, pattern, plan, { limits, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31 }, u.aRows);
  console.log(s.name, s.shader === 'tiled' ? s.sharedBytes : '');
  const bytes = u.aRows * (plan.block.m / 4 + 1) * 16 + 8 * plan.block.n * 4;
  console.log('approx bytes', bytes);
}
