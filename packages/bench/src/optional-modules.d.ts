// Backend packages are imported dynamically and checked at run time (a missing or broken one is reported, not a
// crash), so the bench neither needs their type declarations nor fails to typecheck before they are built.
declare module '@nmkit/cuda';
declare module '@nmkit/webgpu';
