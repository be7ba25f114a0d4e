import { compressedLayout } from './compressed.js';
import { density, type NMPattern } from './pattern.js';
import type { MatmulShape } from './tiling-plan.js';

/** A device's two ceilings. */
export interface DevicePeak {
  readonly name: string;
  /** Peak FP32 FLOP/s of the units the kernels use. */
  readonly flopsPerSecond: number;
  /** Memory bandwidth in bytes/s. */
  readonly bytesPerSecond: number;
}

/**
 * NVIDIA H100 SXM: the FP32 CUDA-core peak from NVIDIA's H100 SXM specifications, and the device-to-device copy
 * bandwidth measured on an H100 SXM (a little below the HBM3 peak of the spec sheet).
 */
export const H100_SXM: DevicePeak = { name: 'NVIDIA H100 SXM', flopsPerSecond: 66.9e12, bytesPerSecond: 3.0e12 };

/** What the performance model says about one problem. */
export interface PerformanceEstimate {
  /** Dense-equivalent work, 2·M·N·K: the numerator of every "effective TFLOP/s" figure. */
  readonly effectiveFlops: number;
  /** Work actually done, 2·M·N·K·ρ. */
  readonly usefulFlops: number;
  /** Fewest bytes moved: A once, compressed B (values and byte indices) once, C once. */
  readonly bytes: number;
  /** usefulFlops / bytes. */
  readonly arithmeticIntensity: number;
  /** 1/ρ: the speedup over dense at equal efficiency. */
  readonly idealSpeedup: number;
  /** With a device: which ceiling binds, the floor time and the device's ridge point (FLOP/byte). */
  readonly bound?: 'compute' | 'memory';
  readonly floorSeconds?: number;
  readonly ridgePoint?: number;
}

/**
 * The roofline model of C = A·B with B N:M-sparse (or dense when `pattern` is undefined).
 * @example performanceModel({ m: 1, n: 4096, k: 4096 }, nmPattern(8, 32, 32), H100_SXM).bound // 'memory'
 */
export function performanceModel(
  shape: MatmulShape,
  pattern: NMPattern | undefined,
  device?: DevicePeak,
): PerformanceEstimate {
  const { m, n, k } = shape;
  const rho = pattern ? density(pattern) : 1;
  const effectiveFlops = 2 * m * n * k;
  const layout = pattern ? compressedLayout(k, n, pattern) : undefined;
  const usefulFlops = layout ? 2 * m * n * layout.keptRows : effectiveFlops;
  const weightBytes = layout ? layout.valuesLength * 4 + layout.indicesLength : k * n * 4;
  const bytes = 4 * (m * k + m * n) + weightBytes;
  const arithmeticIntensity = usefulFlops / bytes;
  const estimate: PerformanceEstimate = {
    effectiveFlops,
    usefulFlops,
    bytes,
    arithmeticIntensity,
    idealSpeedup: 1 / rho,
  };
  if (!device) return estimate;
  const computeSeconds = usefulFlops / device.flopsPerSecond;
  const memorySeconds = bytes / device.bytesPerSecond;
  return {
    ...estimate,
    bound: computeSeconds >= memorySeconds ? 'compute' : 'memory',
    floorSeconds: Math.max(computeSeconds, memorySeconds),
    ridgePoint: device.flopsPerSecond / device.bytesPerSecond,
  };
}

/** Effective (dense-equivalent) TFLOP/s for a measured time: 2·M·N·K / seconds / 10¹². */
export function effectiveTflops(shape: MatmulShape, seconds: number): number {
  return (2 * shape.m * shape.n * shape.k) / seconds / 1e12;
}
