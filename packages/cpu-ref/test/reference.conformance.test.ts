import { describeConformance } from '@nmkit/format/conformance';
import { cpuReferenceProvider } from '../src/index.js';

describeConformance('cpu-ref', { create: () => cpuReferenceProvider.create() });
