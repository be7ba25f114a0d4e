/**
 * Which kernel the backend runs by default (no tuning) for each problem of a bench run on the H100, and that
 * kernel's time in the run's tuning list (the defaults are chosen from measured kernels; this checks it).
 * Plans with the H100's limits (48 KiB workgroup storage, subgroups of 32, 128 compute units); union lists
 * from the bench's own random weights (same seeds).
 *
 *   node scripts/bundle-device.mjs && node device-bundle/default-kernels.mjs results/raw-run6-h100/webgpu-bench.json [OUT.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { planTiling, randomCompressed } from '@nmkit/format';
import { backendPlan, buildUnionRows, kernelSpec, planStageKept, wantsUnion } from '../src/index.js';
import { patternNamed } from './bench-patterns.js';

const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const limits = { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 };
const context = { limits, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31, software: false };
const out: Record<string, unknown>[] = [];
for (const row of run.rows) {
  if (row.backend !== 'webgpu') continue;
  const [m, n, k] = row.shape.split('×').map(Number);
  const shape = { m, n, k };
  const pattern = patternNamed(row.pattern);
  const plan = backendPlan(planTiling(shape, pattern, limits), pattern, false, { shape, limits });
  let aRows: number | undefined;
  if (pattern && wantsUnion(pattern, plan, shape, limits.maxThreadsPerBlock)) {
    const b = randomCompressed(k, n, pattern, 2);
    aRows = buildUnionRows(b.indices, k, n, pattern, plan.block.n, { keptPerStage: planStageKept(shape, pattern, plan) }).aRows;
  }
  // Split-K sized to the device's waves, as the backend sizes its own plans (not the plan's).
  const spec = kernelSpec(shape, pattern, plan, { ...context, multiprocessors: 132 }, aRows, {}, 'waves');
  const hit = row.tuned.find((t: { kernel: string }) => t.kernel === spec.name);
  out.push({ shape: row.shape, pattern: row.pattern, kernel: spec.name, tunedMs: hit?.medianMs ?? null, bestMs: row.medianMs });
  console.log(`${row.shape} ${row.pattern.padEnd(6)} ${hit ? hit.medianMs.toFixed(3) : '  n/a'} (best ${row.medianMs.toFixed(3)})  ${spec.name}`);
}
if (process.argv[3]) writeFileSync(process.argv[3], JSON.stringify(out, null, 1));
