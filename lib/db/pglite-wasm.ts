import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
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
