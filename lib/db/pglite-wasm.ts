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

/**
 * Starts compiling PGlite's WebAssembly (9 MB, on V8's background threads) and resolves to the
 * module, for `PGlite.create`'s `pgliteWasmModule`. Started before the driver's JavaScript is
 * loaded, the compile overlaps that instead of following it: PGlite left to itself reads and
 * compiles the file only once `create` is called, and a rescan's main thread then sat idle
 * waiting for it (~80 ms in a CPU profile of `scan`). Imports nothing heavy, for that reason.
 */
export function compilePgliteWasm(): Promise<WasmModule> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  return readFile(join(dirname(entry), 'pglite.wasm')).then((bytes) => compile(bytes))
}
