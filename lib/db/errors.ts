/** A database that cannot be opened, reached or migrated. */
export class DatabaseError extends Error {
  constructor(
    readonly code: 'locked' | 'unreachable' | 'migration',
    message: string,
  ) {
    super(message)
  }
}
