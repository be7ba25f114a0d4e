// The benchmark bundles @nmkit/cuda through an esbuild alias when present; it is not a dependency here.
declare module '@nmkit/cuda';
