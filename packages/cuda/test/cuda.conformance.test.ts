import { describeConformance } from '@nmkit/format/conformance';
import { cudaProvider } from '../src/index.js';

// Without an NVIDIA GPU (CI) the whole suite shows as skipped with the provider's reason; CI does not require cuda.
describeConformance('cuda', { create: () => cudaProvider.create() });
