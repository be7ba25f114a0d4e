import type * as NodeFs from 'node:fs';
import type * as NodeOs from 'node:os';
import type * as NodeUrl from 'node:url';
import type * as NodeWorkerThreads from 'node:worker_threads';

/** The Node built-ins the threaded path needs. */
export interface NodeBuiltins {
  readonly workerThreads: typeof NodeWorkerThreads;
  readonly os: typeof NodeOs;
  readonly fs: typeof NodeFs;
  readonly url: typeof NodeUrl;
}

// A variable specifier keeps browser bundlers from trying to resolve `node:` modules: they are only ever
// loaded here, at run time, in Node.
const load = (name: string): Promise<unknown> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);

/**
 * Loads `node:worker_threads`, `node:os`, `node:fs` and `node:url`, or resolves to `undefined` where they do not
 * exist (browsers, some edge runtimes). Never throws.
 * @example const node = await loadNodeBuiltins(); if (node) node.os.availableParallelism();
 */
export async function loadNodeBuiltins(): Promise<NodeBuiltins | undefined> {
  const isNode = typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';
  if (!isNode) return undefined;
  try {
    const [workerThreads, os, fs, url] = await Promise.all(
      ['node:worker_threads', 'node:os', 'node:fs', 'node:url'].map((name) => load(name)),
    );
    return {
      workerThreads: workerThreads as typeof NodeWorkerThreads,
      os: os as typeof NodeOs,
      fs: fs as typeof NodeFs,
      url: url as typeof NodeUrl,
    };
  } catch {
    return undefined;
  }
}
