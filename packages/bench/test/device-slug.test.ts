import { describe, expect, it } from 'vitest';
import { deviceSlug } from '../src/device-slug.js';

describe('deviceSlug', () => {
  it('names GPU runs after the GPU and CPU or software-adapter runs after the CPU', () => {
    expect(deviceSlug('cuda', 'NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, driver 13.0)')).toBe('nvidia-h100-80gb-hbm3');
    const smi = ['NVIDIA H100 80GB HBM3, 580.159.04, 81559 MiB, 1980 MHz'];
    expect(deviceSlug('webgpu', 'nvidia NVIDIA: 580.159.04 580.159.4.0', smi)).toBe('nvidia-h100-80gb-hbm3');
    expect(deviceSlug('webgpu', 'nvidia NVIDIA: 580.159.04 580.159.4.0')).toBe('nvidia-nvidia');
    expect(deviceSlug('webgpu', 'mesa software llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)')).toMatch(/^cpu-.+-\d+c$/);
    expect(deviceSlug('cpu', 'AMD EPYC, 2 worker threads')).toMatch(/^cpu-[a-z0-9-]+-\d+c$/);
    expect(deviceSlug(undefined, undefined)).toBe('none');
  });
});
