import type { NativeProbe } from './native-types.js';

/** Oldest compute capability the addon is built for (sm_80 SASS, sm_90 SASS + PTX). */
export const MIN_COMPUTE_CAPABILITY = 8.0;

/**
 * Turns the addon's device probe into a reason + fix, or `undefined` when the device is usable.
 * @example diagnoseProbe({ ok: false, errorCode: 35, ... })?.reason // 'no usable NVIDIA driver: ...'
 */
export function diagnoseProbe(probe: NativeProbe): { reason: string; fix: string } | undefined {
  if (!probe.ok) {
    const code = `cudaGetDeviceCount returned ${probe.errorCode} (${probe.error})`;
    if (probe.errorCode === 35) {
      return {
        reason: `no usable NVIDIA driver: ${code}`,
        fix: 'install an NVIDIA GPU driver that supports CUDA 13 (R580 or newer), or use the webgpu or cpu backend on machines without an NVIDIA GPU.',
      };
    }
    if (!probe.errorCode && probe.deviceCount > 0) {
      // The runtime started but the requested index is past the visible devices.
      return {
        reason: `${probe.error} (${probe.deviceCount} visible)`,
        fix: `choose a device index from 0 to ${probe.deviceCount - 1} (createCudaBackend({ device }) or NMKIT_CUDA_DEVICE), and check CUDA_VISIBLE_DEVICES.`,
      };
    }
    if (probe.errorCode === 100 || probe.deviceCount === 0) {
      return {
        reason: `no CUDA-capable device: ${probe.errorCode ? code : probe.error}`,
        fix: 'check nvidia-smi and CUDA_VISIBLE_DEVICES, or use another backend.',
      };
    }
    return { reason: `the CUDA runtime failed to start: ${probe.errorCode ? code : probe.error}`, fix: 'check nvidia-smi and the driver installation.' };
  }
  if (Number(probe.computeCapability) < MIN_COMPUTE_CAPABILITY) {
    return {
      reason: `${probe.name} has compute capability ${probe.computeCapability}; the kernels need ${MIN_COMPUTE_CAPABILITY.toFixed(1)} or newer (cp.async)`,
      fix: 'run on an Ampere, Ada or Hopper GPU, or use the webgpu backend.',
    };
  }
  return undefined;
}
