import { CpuReferenceBackend } from '@nmkit/cpu-ref';
import type { NMBackend } from '@nmkit/format';

/**
 * The real cpu-ref backend as a plain object that delegates every member to it, with `replace(inner)`'s members in
 * their place (tests count or perturb calls through it).
 */
export function referenceBackend(replace: (inner: CpuReferenceBackend) => Partial<NMBackend> = () => ({})): NMBackend {
  const inner = new CpuReferenceBackend();
  return {
    name: 'cpu-ref',
    device: inner.device,
    capabilities: inner.capabilities,
    check: inner.check.bind(inner),
    prepare: inner.prepare.bind(inner),
    prepareDense: inner.prepareDense.bind(inner),
    matmul: inner.matmul.bind(inner) as NMBackend['matmul'],
    upload: inner.upload.bind(inner),
    matmulDevice: inner.matmulDevice.bind(inner) as NMBackend['matmulDevice'],
    time: inner.time.bind(inner) as NMBackend['time'],
    dispose: () => inner.dispose(),
    ...replace(inner),
  };
}
