export { isNewDatabase, openDatabase, redact } from './open.ts'
export { DatabaseError } from './errors.ts'
export { embeddedFolder, rowsOf, type Database, type DatabaseHandle } from './handle.ts'
export { pgliteOnBaselineCompiler } from './pglite-wasm.ts'
