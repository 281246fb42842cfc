// Every subcommand; each module exports `register(program)`.
export * as serve from './serve.ts'
export * as scan from './scan.ts'
export * as migrate from './migrate.ts'
export * as create from './create.ts'
export * as info from './info.ts'
export * as verify from './verify.ts'
export * as rescan from './rescan.ts'
