/** WGSL sources are bundled as strings (tsup/esbuild loader `{ '.wgsl': 'text' }`, a vite plugin in tests). */
declare module '*.wgsl' {
  const source: string;
  export default source;
}
