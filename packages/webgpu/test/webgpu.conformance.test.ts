import { describeConformance } from '@nmkit/format/conformance';
import { webgpuProvider } from '../src/index.js';

// Full scale: the largest case is 315×628×2179 (about 0.1 s on lavapipe). No known gaps.
describeConformance('webgpu', { create: () => webgpuProvider.create(), scale: 'full' });
