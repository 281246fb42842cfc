export { isNewDatabase, openDatabase, redact } from './open.ts'
export { DatabaseError } from './errors.ts'
export type { Database, DatabaseHandle } from './handle.ts'
