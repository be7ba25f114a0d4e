import os from 'node:os';

/**
 * A folder-name-safe slug of the device a run measured: the GPU's name for a GPU backend, the CPU model and
 * core count for a CPU backend (or a software WebGPU adapter).
 * @example deviceSlug('cuda', 'NVIDIA H100 80GB HBM3') // 'nvidia-h100-80gb-hbm3'
 */
export function deviceSlug(backend: string | undefined, device: string | undefined, gpus?: readonly string[] | null): string {
  const slug = (text: string) =>
    text
      .toLowerCase()
      .replace(/\((r|tm)\)/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'unknown';
  if (!backend) return 'none';
  // A software WebGPU adapter (lavapipe / llvmpipe / SwiftShader) runs on the CPU: name the run after the CPU.
  const software = /llvmpipe|lavapipe|swiftshader/i.test(device ?? '');
  if (backend === 'cpu' || backend === 'cpu-ref' || software) {
    const cpus = os.cpus();
    return `cpu-${slug(cpus[0]?.model ?? 'unknown')}-${cpus.length}c`;
  }
  // On a one-GPU machine nvidia-smi names the model ('NVIDIA H100 80GB HBM3, 580.159.04, ...'); Dawn's adapter
  // name does not.
  if (gpus?.length === 1 && /nvidia/i.test(device ?? '')) return slug(gpus[0].split(',')[0]);
  // Otherwise the adapter or GPU name before any ':' detail (driver versions).
  return slug((device ?? backend).split(':')[0].replace(/\([^)]*\)/g, ''));
}
