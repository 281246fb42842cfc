#!/usr/bin/env node
// Compiles the program to plain JavaScript in dist/ (what production runs; `npm ci` runs this
// through `prepare`), beside the two things the compiled modules find by relative path: a
// package.json (the version, and "type": "module" for dist/) and the migrations.
import { spawnSync } from 'node:child_process'
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
process.chdir(root)
let tsc
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  // `npm ci --omit=dev` runs `prepare` too, without the compiler.
  process.stderr.write(
    'mirrorseed: building needs the development dependencies: run `npm ci` (then, if you wish, `npm prune --omit=dev`)\n',
  )
  process.exit(1)
}
rmSync('dist', { recursive: true, force: true })
const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
if (run.status !== 0) process.exit(run.status ?? 1)
const { name, version } = JSON.parse(readFileSync('package.json', 'utf8'))
writeFileSync(
  'dist/package.json',
  JSON.stringify({ name, version, private: true, type: 'module' }, null, 2) + '\n',
)
cpSync('migrations', 'dist/migrations', { recursive: true })
// An empty PGlite database with this build's schema, made once here by the PGlite this build
// runs with: a new data folder starts from it instead of running initdb and the migrations at
// first start (lib/db/template.ts).
const template = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    "const { makeTemplate } = await import('./dist/lib/db/pglite.js'); await makeTemplate('dist/pglite-template.tar.gz')",
  ],
  { stdio: 'inherit' },
)
if (template.status !== 0) process.exit(template.status ?? 1)
// Written last: the launcher runs dist/ only when this is newer than every source file.
writeFileSync('dist/.built', `${new Date().toISOString()}\n`)
