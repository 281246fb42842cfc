import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import type { PGliteOptions } from '@electric-sql/pglite'

/** A compiled WebAssembly module, as PGlite's options name it. */
export type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>

// The WebAssembly global is in the DOM's type library, not in the one this project compiles with.
const { compile } = (
  globalThis as unknown as {
    WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> }
  }
).WebAssembly

const require = createRequire(import.meta.url)
let compiled: Promise<WasmModule> | undefined

/**
 * Starts compiling PGlite's WebAssembly (9 MB, on V8's background threads) and resolves to the
 * module, for `PGlite.create`'s `pgliteWasmModule`. Started before the driver's JavaScript is
 * loaded, the compile overlaps that instead of following it: PGlite left to itself reads and
 * compiles the file only once `create` is called, and the main thread of a bare open then sat
 * idle ~80 ms waiting for it (CPU profile). Imports nothing heavy, for that reason. Compiled once
 * per process, as PGlite itself keeps it: every later open instantiates the same module.
 */
export function compilePgliteWasm(): Promise<WasmModule> {
  compiled ??= readFile(join(dirname(require.resolve('@electric-sql/pglite')), 'pglite.wasm'))
    .then((bytes) => compile(bytes))
    .catch((err: unknown) => {
      compiled = undefined // a later open tries again
      throw err
    })
  return compiled
}

/**
 * Keeps PGlite's WebAssembly on V8's baseline compiler (Liftoff) for the rest of the process, when
 * the database is the embedded one. Left to itself, V8 recompiles PGlite's hot functions with its
 * optimizing compiler (TurboFan) on background threads, which never paid back here: a first
 * `scan` spent 2 of its 6.7 CPU-s on those threads and no less on the main one (bench/scan.ts);
 * `serve` on 1,000 published releases idles at 204-207 MB resident instead of 243-274, and a
 * first start that publishes 500 releases took 17.0 CPU-s instead of 18.5, while a warm
 * `/metrics` or `/readyz` costs the same within the noise (docs/architecture.md has the runs).
 * A flag of the process, it applies to modules compiled after it: call this before
 * {@link compilePgliteWasm} first runs. A Liftoff flag on node's command line wins
 * (`node --no-liftoff-only`, to measure the other way).
 *
 * @example
 * pgliteOnBaselineCompiler({ url: config.databaseUrl })
 * const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir })
 */
export function pgliteOnBaselineCompiler(options: { url?: string }): void {
  if (options.url || process.execArgv.some((flag) => flag.includes('liftoff'))) return
  setFlagsFromString('--liftoff-only')
}
