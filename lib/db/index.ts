export { isNewDatabase, openDatabase, redact } from './open.ts'
export { DatabaseError } from './errors.ts'
export { embeddedFolder, type Database, type DatabaseHandle } from './handle.ts'
