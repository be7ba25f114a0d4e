import { describeConformance } from '@nmkit/format/conformance';
import { createCpuProvider } from '../src/index.js';

// Every case goes through the worker threads (parallelThreshold 0), the path large products take; from the
// TypeScript sources the workers run the built dist/worker.js (turbo builds before testing).
describeConformance('cpu', { create: () => createCpuProvider({ parallelThreshold: 0 }).create() });
