import { BackendUnavailableError, type DeviceLimits } from '@nmkit/format';

/** A device the backend runs on, with what the planner and the capability checks need to know about it. */
export interface GpuContext {
  readonly device: GPUDevice;
  /**
   * Planner limits filled from the device's limits and the adapter's subgroup size. Their `computeUnits` is the
   * caller's figure or the vendor default (128 / 16) the planner's split-K and tile rules were measured with.
   */
  readonly limits: DeviceLimits;
  /** Compute units for the wave tail, which needs the real count: the caller's, else {@link knownComputeUnits}, else `limits.computeUnits`. */
  readonly multiprocessors: number;
  /** Largest buffer a kernel may bind: min(maxStorageBufferBindingSize, maxBufferSize). */
  readonly maxBindingBytes: number;
  readonly maxWorkgroupsPerDimension: number;
  readonly timestamps: boolean;
  /** A CPU implementation (lavapipe, SwiftShader, a fallback adapter): kernels are specialised for compile time. */
  readonly software: boolean;
  /** "vendor architecture (description)" for humans. */
  readonly description: string;
  /** Set when the device is lost (destroyed, driver reset, out of memory). */
  lostReason?: string;
  /** Set once a DeviceError has told a caller about the loss. */
  lossReported?: boolean;
  /** Increases with every new device, so weights know when to re-upload. */
  readonly generation: number;
  /** True when the caller supplied the device (then we never destroy it). */
  readonly external: boolean;
}

/** Where a device comes from: a caller's device, or an adapter of `navigator.gpu` / dawn.node. */
export interface AcquireOptions {
  readonly device?: GPUDevice;
  /**
   * Compute units (SMs, CUs): WebGPU does not expose them. For the planner's rules the default is 128 for NVIDIA / AMD
   * adapters and 16 for others; for the wave tail {@link knownComputeUnits} when the adapter names a GPU it lists.
   */
  readonly computeUnits?: number;
  readonly powerPreference?: GPUPowerPreference;
}

/** Why no device could be made (no WebGPU, no adapter, a refused device); the provider reports it as unavailability. */
export class NoGpuError extends BackendUnavailableError {
  declare readonly fix: string;
  constructor(reason: string, fix: string) {
    super('webgpu', reason, fix);
  }
}

let nodeGpu: Promise<GPU> | undefined;

/**
 * The `GPU` entry point: `navigator.gpu` in browsers (and any runtime that has it), dawn.node in Node.
 * @throws {NoGpuError} with a diagnosis when neither exists.
 */
export async function acquireGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) {
    throw new NoGpuError('this browser has no navigator.gpu', 'use a browser with WebGPU enabled (Chrome ≥ 113, or --enable-unsafe-webgpu)');
  }
  nodeGpu ??= import('./node-gpu.js').then((m) => m.loadNodeGpu());
  try {
    return await nodeGpu;
  } catch (error) {
    nodeGpu = undefined;
    throw new NoGpuError(
      `the optional dependency "webgpu" (Dawn for Node) could not be loaded: ${(error as Error).message}`,
      'install it with `npm install webgpu@0.6.2` (linux-x64, darwin, win32 prebuilt)',
    );
  }
}

/** Drops the module's reference to dawn.node's `GPU` object so that the Node process may exit. */
export function releaseNodeGpu(): void {
  nodeGpu = undefined;
}

let generations = 0;

/**
 * Makes a {@link GpuContext}: wraps a caller's device, or requests an adapter and a device with the adapter's
 * largest compute limits (WebGPU hands out small defaults unless asked) plus timestamp queries when offered.
 * @throws {NoGpuError} when there is no adapter or the device request fails.
 */
export async function createGpuContext(options: AcquireOptions = {}): Promise<GpuContext> {
  if (options.device) return describeContext(options.device, undefined, options, true);
  const gpu = await acquireGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new NoGpuError(
      'no WebGPU adapter (no GPU driver, or Dawn found no usable Vulkan/Metal/D3D12 device)',
      'on Linux without a GPU install Mesa ≥ 24 lavapipe (mesa-vulkan-drivers) or point VK_ICD_FILENAMES at SwiftShader',
    );
  }
  const wanted: (keyof GPUSupportedLimits)[] = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxStorageBuffersPerShaderStage',
  ];
  const requiredLimits: Record<string, number> = {};
  for (const key of wanted) requiredLimits[key] = adapter.limits[key] as number;
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'nmkit' });
  } catch (error) {
    throw new NoGpuError(`the adapter refused a device: ${(error as Error).message}`, 'update the GPU driver');
  }
  return describeContext(device, adapter.info, options, false);
}

function describeContext(device: GPUDevice, info: GPUAdapterInfo | undefined, options: AcquireOptions, external: boolean): GpuContext {
  const adapterInfo = info ?? (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const vendor = adapterInfo?.vendor ?? '';
  const subgroupSize = (adapterInfo as { subgroupMaxSize?: number } | undefined)?.subgroupMaxSize ?? 1;
  const discrete = /nvidia|amd|ati/i.test(vendor);
  const software = isSoftware(adapterInfo);
  const limits: DeviceLimits = {
    maxSharedMemoryBytes: device.limits.maxComputeWorkgroupStorageSize,
    // CPU drivers compile big register tiles for seconds (LLVM) and gain nothing from them: small tiles.
    // The kernels are @workgroup_size(WG) along x: both limits bind.
    maxThreadsPerBlock: software ? 64 : Math.min(device.limits.maxComputeInvocationsPerWorkgroup, device.limits.maxComputeWorkgroupSizeX),
    subgroupSize: subgroupSize > 0 ? subgroupSize : 1,
    computeUnits: options.computeUnits ?? (discrete ? 128 : 16),
  };
  const words = [adapterInfo?.vendor, adapterInfo?.architecture, adapterInfo?.device, adapterInfo?.description].filter((s) => s);
  const context: GpuContext = {
    device,
    limits,
    multiprocessors: options.computeUnits ?? knownComputeUnits(adapterInfo) ?? limits.computeUnits,
    // Binding sizes are u32 byte counts in Vulkan and WGSL's arrayLength: capped at 2³² − 4 bytes (Dawn reports less today).
    maxBindingBytes: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize, 2 ** 32 - 4),
    maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    timestamps: device.features.has('timestamp-query'),
    software,
    description: words.length > 0 ? words.join(' ') : 'WebGPU device',
    generation: ++generations,
    external,
  };
  device.lost.then((lost) => {
    context.lostReason = `${lost.reason}${lost.message ? `: ${lost.message}` : ''}`;
  });
  return context;
}

/** SM counts of GPUs an adapter may name (dawn.node reports the Vulkan device name; browsers usually do not). */
const COMPUTE_UNITS: readonly (readonly [RegExp, number])[] = [
  [/H100.*PCIe/i, 114],
  [/H100|H200|GH200/i, 132],
  [/A100/i, 108],
  [/L40S?\b/i, 142],
  [/RTX 4090/i, 128],
  [/RTX 3090/i, 82],
];

/**
 * The compute units of a GPU the adapter names, when it is one of a few known ones (H100 SXM / PCIe, H200, A100,
 * L40, RTX 4090 / 3090); `undefined` otherwise. Pass `computeUnits` to the backend for other GPUs.
 */
export function knownComputeUnits(info: Pick<GPUAdapterInfo, 'device' | 'description'> | undefined): number | undefined {
  const name = `${info?.device ?? ''} ${info?.description ?? ''}`;
  return COMPUTE_UNITS.find(([pattern]) => pattern.test(name))?.[1];
}

/** lavapipe (llvmpipe), SwiftShader, or an adapter that says it is a fallback. */
function isSoftware(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  if ((info as { isFallbackAdapter?: boolean }).isFallbackAdapter) return true;
  return /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}
