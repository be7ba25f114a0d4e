import {
  candidatePlans,
  DEFAULT_DEVICE_LIMITS,
  type DeviceLimits,
  describePattern,
  H100_SXM,
  type MatmulShape,
  type NMPattern,
  performanceModel,
  planTiling,
  sharedMemoryBytes,
  stageDepth,
  chooseVariant,
} from '@nmkit/format';
import { defineLoader } from 'vitepress';

/** One planned problem, formatted for the page. */
export interface PlanRow {
  readonly device: string;
  readonly shape: string;
  readonly pattern: string;
  readonly variant: string;
  readonly block: string;
  readonly warp: string;
  readonly thread: string;
  readonly threads: number;
  readonly stages: number;
  readonly splitK: number;
  readonly sharedBytes: number;
  readonly blocks: number;
  readonly candidates: number;
}

export interface ModelExample {
  readonly shape: string;
  readonly pattern: string;
  readonly effectiveFlops: string;
  readonly usefulFlops: string;
  readonly bytes: string;
  readonly intensity: string;
  readonly bound: string;
  readonly floorMicroseconds: string;
  readonly idealSpeedup: string;
}

export interface TilingData {
  readonly limits: readonly { readonly name: string; readonly limits: DeviceLimits }[];
  readonly plans: readonly PlanRow[];
  readonly stageDepths: readonly { readonly pattern: string; readonly variant: string; readonly depth: number }[];
  readonly model: readonly ModelExample[];
  readonly peak: { readonly name: string; readonly tflops: string; readonly bandwidth: string };
}

declare const data: TilingData;
export { data };

/** The limits the CUDA backend reports on the H100 test machine (227 KB opt-in shared memory, 132 SMs). */
const H100_CUDA_LIMITS: DeviceLimits = { maxSharedMemoryBytes: 227 * 1024, maxThreadsPerBlock: 1024, subgroupSize: 32, computeUnits: 132 };

const SHAPES: readonly MatmulShape[] = [
  { m: 1, n: 4096, k: 4096 },
  { m: 16, n: 4096, k: 4096 },
  { m: 256, n: 4096, k: 4096 },
  { m: 4096, n: 4096, k: 4096 },
];
const PATTERNS: readonly (NMPattern | undefined)[] = [
  undefined,
  { keep: 16, group: 32, vectorLength: 32 },
  { keep: 8, group: 32, vectorLength: 32 },
  { keep: 4, group: 32, vectorLength: 32 },
];

const label = (p: NMPattern | undefined) => (p ? describePattern(p) : 'dense');

/** Tables for the tiling/performance page, computed by the planner and the model at build time. */
export default defineLoader({
  load(): TilingData {
    const limits = [
      { name: 'DEFAULT_DEVICE_LIMITS (WebGPU defaults)', limits: DEFAULT_DEVICE_LIMITS },
      { name: 'H100 through CUDA', limits: H100_CUDA_LIMITS },
    ];
    const plans: PlanRow[] = [];
    for (const { name, limits: l } of limits) {
      for (const shape of SHAPES) {
        for (const pattern of PATTERNS) {
          const plan = planTiling(shape, pattern, l);
          plans.push({
            device: name,
            shape: `${shape.m}×${shape.n}×${shape.k}`,
            pattern: label(pattern),
            variant: plan.variant,
            block: `${plan.block.m}×${plan.block.n}×${plan.block.k}`,
            warp: `${plan.warp.m}×${plan.warp.n}`,
            thread: `${plan.thread.m}×${plan.thread.n}`,
            threads: plan.threads,
            stages: plan.stages,
            splitK: plan.splitK,
            sharedBytes: sharedMemoryBytes(plan, pattern),
            blocks: Math.ceil(shape.m / plan.block.m) * Math.ceil(shape.n / plan.block.n) * plan.splitK,
            candidates: candidatePlans(shape, pattern, l).length,
          });
        }
      }
    }
    const stageDepths = PATTERNS.flatMap((pattern) => {
      const variants = pattern ? (['low-sparsity', 'high-sparsity'] as const) : (['dense'] as const);
      return variants.map((variant) => ({ pattern: label(pattern), variant, depth: stageDepth(pattern, variant) }));
    });
    const model = [SHAPES[0], SHAPES[3]].flatMap((shape) =>
      PATTERNS.map((pattern) => {
        const e = performanceModel(shape, pattern, H100_SXM);
        return {
          shape: `${shape.m}×${shape.n}×${shape.k}`,
          pattern: `${label(pattern)} → ${chooseVariant(shape, pattern)}`,
          effectiveFlops: e.effectiveFlops.toExponential(3),
          usefulFlops: e.usefulFlops.toExponential(3),
          bytes: e.bytes.toExponential(3),
          intensity: e.arithmeticIntensity.toFixed(2),
          bound: e.bound ?? '',
          floorMicroseconds: ((e.floorSeconds ?? 0) * 1e6).toPrecision(3),
          idealSpeedup: e.idealSpeedup.toFixed(2),
        };
      }),
    );
    return {
      limits,
      plans,
      stageDepths,
      model,
      peak: { name: H100_SXM.name, tflops: (H100_SXM.flopsPerSecond / 1e12).toFixed(1), bandwidth: (H100_SXM.bytesPerSecond / 1e12).toFixed(1) },
    };
  },
});
