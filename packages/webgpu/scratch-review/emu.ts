import { candidatePlans, randomCompressed, randomDense, referenceSpmm, type NMPattern, type MatmulShape, type TilingPlan, type CompressedNM } from '@nmkit/format';
import { backendPlan, buildUnionRows, kernelSpec, planStageKept, wantsUnion } from '../src/index.js';

const h100 = { maxSharedMemoryBytes: 49152, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 };
const soft = { maxSharedMemoryBytes: 32768, maxThreadsPerBlock: 64, subgroupSize: 8, computeUnits: 16 };

// Emulates spmm-nm-tiled.wgsl math (no tiling in M) for one spec.
function emulate(shape: MatmulShape, b: CompressedNM, a: Float32Array, spec: any, union: ReturnType<typeof buildUnionRows> | undefined, indices: Uint8Array) {
  const c = spec.constants;
  const { m, n, k } = shape;
  const { keep, group, vectorLength: V } = b.pattern;
  const keptRows = b.values.length / n;
  const vectors = Math.ceil(n / V);
  const colBlocks = Math.ceil(n / c.BN);
  const out = new Float64Array(m * n);
  const errs: string[] = [];
  if (c.UNION && union) {
    if (union.rows.length !== colBlocks * spec.stages * c.A_ROWS) errs.push(`union size ${union.rows.length} vs ${colBlocks}*${spec.stages}*${c.A_ROWS}`);
  }
  if (c.UNION && !union) errs.push('UNION without lists');
  const slotsArr = c.UNION ? union!.slots : indices;
  for (let bx = 0; bx < colBlocks; bx++) {
    const n0 = bx * c.BN;
    for (let s = 0; s < spec.stages; s++) {
      const rowsOf: number[] = [];
      for (let r = 0; r < c.A_ROWS; r++) {
        let row = s * c.BK + r;
        if (c.UNION) {
          const idx = (bx * spec.stages + s) * c.A_ROWS + r;
          if (idx >= union!.rows.length) { errs.push(`gUnion OOB ${idx}`); row = 0xffffffff; } else row = union!.rows[idx];
        }
        rowsOf.push(row);
      }
      for (let w = 0; w < c.KEPT; w++) {
        const gw = s * c.KEPT + w;
        for (let col = n0; col < n0 + c.BN; col++) {
          let slot = Math.floor(w / keep) * group;
          if (c.UNION) slot = c.A_ROWS - 1;
          if (col < n && gw < keptRows) {
            slot = slotsArr[gw * vectors + Math.floor(col / V)];
            if (!c.UNION) slot += Math.floor(w / keep) * group;
          }
          if (slot >= c.A_ROWS) { errs.push(`slot ${slot} >= A_ROWS ${c.A_ROWS}`); continue; }
          if (col >= n || gw >= keptRows) continue;
          const bv = b.values[gw * n + col];
          const row = rowsOf[slot];
          // expected row
          const expRow = Math.floor(gw / keep) * group + indices[gw * vectors + Math.floor(col / V)];
          if (row !== expRow && !(row >= k && expRow >= k)) { errs.push(`stage ${s} w ${gw} col ${col}: row ${row} expected ${expRow}`); }
          if (row >= k) continue;
          for (let i = 0; i < m; i++) out[i * n + col] += a[i * k + row] * bv;
        }
      }
    }
  }
  return { out, errs };
}

let cases = 0, fails = 0;
const seen = new Map<string, number>();
function check(what: string, shape: MatmulShape, pattern: NMPattern, plan: TilingPlan, limits: any, software: boolean) {
  cases++;
  const b = randomCompressed(shape.k, shape.n, pattern, 3);
  const aM = randomDense(shape.m, shape.k, 4);
  const context = { limits, maxWorkgroupsPerDimension: 65535, maxBindingBytes: 2 ** 31, software };
  let union;
  if (wantsUnion(pattern, plan, shape, limits.maxThreadsPerBlock)) union = buildUnionRows(b.indices, shape.k, shape.n, pattern, plan.block.n, planStageKept(shape, pattern, plan));
  const spec = kernelSpec(shape, pattern, plan, context, union?.aRows, {}, 'waves');
  const fam = spec.name.replace(/ \d.*$/, '');
  seen.set(fam, (seen.get(fam) ?? 0) + 1);
  if (spec.shader !== 'tiled') return spec;
  const { out, errs } = emulate(shape, b, aM.data, spec, spec.constants.UNION ? union : undefined, b.indices);
  const ref = referenceSpmm(aM, b);
  let bad = 0;
  for (let i = 0; i < out.length; i++) if (Math.abs(out[i] - ref.values[i]) > 1e-3 * (1 + Math.abs(ref.values[i]))) bad++;
  if (errs.length || bad) {
    fails++;
    if (fails < 15) console.log('FAIL', what, JSON.stringify(shape), JSON.stringify(pattern), JSON.stringify(plan.block), spec.name, errs.slice(0, 3), 'bad', bad);
  }
  return spec;
}

const rand = (() => { let s = 12345; return () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x7fffffff; }; })();
const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
const groups = [32, 48, 64, 96, 100, 128, 200, 256];
for (let t = 0; t < 1500; t++) {
  const group = pick(groups);
  const keep = 1 + Math.floor(rand() * group);
  const V = pick([4, 8, 16, 32, 64, 128, 3]);
  const pattern = { keep, group, vectorLength: V };
  const shape = { m: pick([1, 3, 5, 16, 17, 33, 70]), n: pick([7, 32, 45, 70, 130, 200]), k: pick([1, 10, 50, group, group + 1, 2 * group - 3, 3 * group + 17]) };
  const software = rand() < 0.5;
  const limits = software ? soft : h100;
  let base: TilingPlan;
  try { base = candidatePlans(shape, pattern, limits)[0]; } catch { continue; }
  // default plan
  check('default', shape, pattern, backendPlan(base, pattern, software, { shape }), limits, software);
  // forced
  const variant = pick(['high-sparsity', 'decode', 'low-sparsity'] as const);
  const bk = 1 + Math.floor(rand() * group * 1.5);
  const thread = pick([{ m: 8, n: 4 }, { m: 4, n: 4 }, { m: 8, n: 8 }]);
  const bn = pick([16, 32, 64, 128]);
  const bm = pick([32, 64]);
  const forced: TilingPlan = { ...base, variant, block: { m: bm, n: bn, k: bk }, thread, threads: (bm / thread.m) * (bn / thread.n), splitK: 1, stages: pick([1, 2]) };
  check('forced', shape, pattern, forced, limits, software);
}
console.log('cases', cases, 'fails', fails, [...seen.entries()]);

// Targeted: lists near 256 entries, parts with K inside one window, V=256.
const big = { maxSharedMemoryBytes: 1 << 20, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 128 };
for (const [pattern, shape, block, variant] of [
  [{ keep: 128, group: 256, vectorLength: 4 }, { m: 20, n: 256, k: 600 }, { m: 32, n: 128, k: 256 }, 'high-sparsity'],
  [{ keep: 200, group: 256, vectorLength: 4 }, { m: 20, n: 256, k: 600 }, { m: 32, n: 128, k: 128 }, 'high-sparsity'],
  [{ keep: 250, group: 256, vectorLength: 4 }, { m: 5, n: 256, k: 700 }, { m: 16, n: 128, k: 128 }, 'decode'],
  [{ keep: 64, group: 128, vectorLength: 256 }, { m: 20, n: 600, k: 100 }, { m: 32, n: 128, k: 16 }, 'high-sparsity'],
  [{ keep: 96, group: 256, vectorLength: 8 }, { m: 20, n: 77, k: 255 }, { m: 32, n: 64, k: 9 }, 'high-sparsity'],
] as const) {
  const base = candidatePlans(shape, pattern, h100)[0];
  const plan = { ...base, variant, block, thread: { m: 4, n: 4 }, threads: (block.m / 4) * (block.n / 4), splitK: 1, stages: 2 } as TilingPlan;
  const s = check('targeted', shape, pattern, plan, big, false);
  console.log('targeted', JSON.stringify(pattern), s.name, s.shader === 'tiled' ? s.constants.A_ROWS : '');
}
console.log('cases', cases, 'fails', fails);
