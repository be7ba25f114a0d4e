import { describeConformance } from '@nmkit/format/conformance';
import { createCpuProvider } from '../src/index.js';

// The same kernels on the calling thread: the path browsers (no worker_threads) and threads: 1 take.
describeConformance('cpu (1 thread)', { create: () => createCpuProvider({ threads: 1 }).create(), scale: 'quick' });
