// Every subcommand; each module exports `register(program)`.
export * as serve from './serve.ts'
export * as migrate from './migrate.ts'
