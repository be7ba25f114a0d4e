// Module shapes Vite provides at build time, for `tsc --noEmit` (Vue single-file components are checked by the
// VitePress build itself, which compiles them).
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

declare module '*?raw' {
  const source: string;
  export default source;
}

declare module '*.css';
