import { MirrorseedError } from '../errors/index.ts'

/** A database that cannot be opened, reached or migrated. */
export class DatabaseError extends MirrorseedError<'locked' | 'unreachable' | 'migration'> {}
