import { candidatePlans, randomCompressed, type NMPattern, type MatmulShape } from '@nmkit/format';
import * as NEWK from '../src/kernel-spec.js';
import * as NEWU from '../src/union-rows.js';
const NEW = { ...NEWK, ...NEWU };
// @ts-ignore
import * as OLDK from '/tmp/oldsrc/packages/webgpu/src/kernel-spec.ts';
// @ts-ignore
import * as OLDU from '/tmp/oldsrc/packages/webgpu/src/union-rows.ts';
const OLD = { ...OLDK, ...OLDU };

const limitSets: Record<string, any> = {
  h100: { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 },
  wg256_32k: { maxSharedMemoryBytes: 32768, maxThreadsPerBlock: 256, subgroupSize: 32, computeUnits: 32 },
  webgpuDefault: { maxSharedMemoryBytes: 16384, maxThreadsPerBlock: 256, subgroupSize: 32, computeUnits: 16 },
  desktop32k: { maxSharedMemoryBytes: 32768, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 32 },
  soft: { maxSharedMemoryBytes: 32768, maxThreadsPerBlock: 64, subgroupSize: 8, computeUnits: 16 },
};
function spec(lib: any, shape: MatmulShape, pattern: NMPattern, limits: any, software: boolean, b: any, isNew: boolean) {
  let base;
  try { base = candidatePlans(shape, pattern, limits)[0]; } catch { return 'noplan'; }
  const plan = lib.backendPlan(base, pattern, software, { shape });
  const context = { limits, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31, software };
  let aRows;
  if (lib.wantsUnion(pattern, plan, shape, limits.maxThreadsPerBlock)) {
    const depth = isNew ? lib.planStageKept(shape, pattern, plan) : lib.planStageWindows(shape, pattern, plan);
    aRows = lib.buildUnionRows(b.indices, shape.k, shape.n, pattern, plan.block.n, depth).aRows;
  }
  const s = lib.kernelSpec(shape, pattern, plan, context, aRows, {}, 'waves');
  return s.name;
}
const pats: NMPattern[] = [];
for (const [keep, group] of [[16,64],[32,64],[48,64],[17,64],[24,96],[32,128],[64,128],[8,128],[100,256],[128,256],[64,256],[40,64],[12,64]]) for (const V of [4, 16, 32, 64, 128]) pats.push({ keep, group, vectorLength: V });
for (const [ln, limits] of Object.entries(limitSets)) {
  const software = ln === 'soft';
  for (const pattern of pats) for (const shape of [{ m: 8, n: 1024, k: 1024 }, { m: 16, n: 512, k: 777 }, { m: 100, n: 1024, k: 1024 }, { m: 1024, n: 1024, k: 1024 }]) {
    const b = randomCompressed(shape.k, shape.n, pattern, 2);
    const o = spec(OLD, shape, pattern, limits, software, b, false);
    const n = spec(NEW, shape, pattern, limits, software, b, true);
    const og = o.includes('general'), ng = n.includes('general');
    if (!og && ng) console.log('REGRESS',ln, `${pattern.keep}:${pattern.group}/${pattern.vectorLength}`, JSON.stringify(shape), '\n   old:', o, '\n   new:', n);
  }
}
