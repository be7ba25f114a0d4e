import {
  chooseVariant,
  describePattern,
  LimitError,
  type MatmulShape,
  type NMPattern,
  type TilingPlan,
} from '@nmkit/format';
import type { KernelName } from './kernels/kernel-job.js';
import { MR, NR } from './kernels/micro-kernel.js';

/** How the CPU kernels read a {@link TilingPlan}: C tile per work item, B rows per K stage, and the kernel. */
export interface CpuBlocking {
  readonly kernel: KernelName;
  /** `plan.block.m`: C rows per tile (multiple of 4). */
  readonly tileRows: number;
  /** `plan.block.n`: C columns per tile (multiple of V for N:M, of 8 for dense). */
  readonly tileCols: number;
  /** `plan.block.k` in B rows: kept rows per stage for N:M (block.k / group · keep), dense rows for dense. */
  readonly stageRows: number;
}

/** The kernel a pattern runs on (`undefined` = dense). */
export function cpuKernelFor(pattern: NMPattern | undefined): KernelName {
  if (!pattern) return 'gemm-dense-strips';
  return pattern.vectorLength >= NR ? 'spmm-nm-strips' : 'spmm-nm-general';
}

/**
 * The CPU mapping of the shared tiling plan. A CPU "block" is one work item handed to a thread (`block.m × block.n`
 * of C, stepping along K by `block.k` dense rows: whole windows, about 128 kept rows per stage so the gathered A
 * panel stays in L2); the "warp" level is the set of columns that share one gathered A panel (one vector); the
 * "thread" tile is the 4×8 register tile. Blocks shrink until every thread has about four to pick from.
 * @example planCpuTiling({ m: 1024, n: 1024, k: 1024 }, nmPattern(8, 32, 32), 2).block // { m: 64, n: 256, k: 512 }
 */
export function planCpuTiling(shape: MatmulShape, pattern: NMPattern | undefined, threads: number): TilingPlan {
  const kernel = cpuKernelFor(pattern);
  const unit = pattern ? pattern.vectorLength : NR;
  let tileRows = Math.min(64, roundUp(shape.m, MR));
  let tileCols = Math.min(unit * Math.max(1, Math.floor(256 / unit)), roundUp(shape.n, unit));
  let blockK: number;
  if (pattern) {
    const windows = Math.ceil(shape.k / pattern.group);
    blockK = pattern.group * Math.min(windows, Math.max(1, Math.round(128 / pattern.keep)));
  } else {
    blockK = Math.min(256, shape.k);
  }
  const tiles = () => Math.ceil(shape.m / tileRows) * Math.ceil(shape.n / tileCols);
  const wanted = 4 * threads;
  while (tiles() < wanted && tileCols > unit) {
    const next = Math.max(unit, Math.floor(tileCols / 2 / unit) * unit);
    if (next === tileCols) break;
    tileCols = next;
  }
  while (tiles() < wanted && tileRows > 4 * MR) tileRows = roundUp(tileRows / 2, MR);
  const general = kernel === 'spmm-nm-general';
  return {
    variant: general ? 'general' : chooseVariant(shape, pattern),
    block: { m: tileRows, n: tileCols, k: blockK },
    warp: { m: tileRows, n: pattern ? Math.min(tileCols, roundUp(pattern.vectorLength, general ? 1 : NR)) : NR },
    thread: general ? { m: 1, n: pattern!.vectorLength } : { m: MR, n: NR },
    splitK: 1,
    stages: 1,
    threads,
  };
}

/**
 * Checks that a plan (the planner's or a caller's) fits the CPU kernels and converts it to {@link CpuBlocking}.
 * @throws {LimitError} naming the field that does not fit and what it must be.
 */
export function cpuBlocking(plan: TilingPlan, shape: MatmulShape, pattern: NMPattern | undefined): CpuBlocking {
  const kernel = cpuKernelFor(pattern);
  const unit = pattern ? pattern.vectorLength : NR;
  const where = `CPU plan for ${shape.m}×${shape.n}×${shape.k} (${pattern ? describePattern(pattern) : 'dense'})`;
  const problems: string[] = [];
  if (!Number.isInteger(plan.block.m) || plan.block.m < MR || plan.block.m % MR !== 0) {
    problems.push(`block.m=${plan.block.m} must be a positive multiple of ${MR}`);
  }
  if (!Number.isInteger(plan.block.n) || plan.block.n < unit || plan.block.n % unit !== 0) {
    problems.push(`block.n=${plan.block.n} must be a positive multiple of ${pattern ? `the vector length ${unit}` : NR}`);
  }
  const step = pattern ? pattern.group : 1;
  if (!Number.isInteger(plan.block.k) || plan.block.k < step || plan.block.k % step !== 0) {
    problems.push(`block.k=${plan.block.k} must be a positive multiple of ${pattern ? `the group ${step}` : 1}`);
  }
  if (plan.splitK !== 1) problems.push(`splitK=${plan.splitK} is not supported (threads split C, never K)`);
  if (kernel !== 'spmm-nm-general' && (plan.thread.m !== MR || plan.thread.n !== NR)) {
    problems.push(`thread tile ${plan.thread.m}×${plan.thread.n} must be ${MR}×${NR} (the compiled register tile)`);
  }
  if (problems.length > 0) {
    throw new LimitError(`${where}: ${problems.join('; ')}.`, 'use planCpuTiling() or backend.check(), or fix the plan fields above.');
  }
  // A block larger than the problem covers all of it: clamp, so scratch sized by the block stays problem-sized.
  const blockK = Math.min(plan.block.k, pattern ? roundUp(shape.k, pattern.group) : shape.k);
  const stageRows = pattern ? (blockK / pattern.group) * pattern.keep : blockK;
  return { kernel, tileRows: Math.min(plan.block.m, roundUp(shape.m, MR)), tileCols: Math.min(plan.block.n, roundUp(shape.n, unit)), stageRows };
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}
