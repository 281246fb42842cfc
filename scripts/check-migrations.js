#!/usr/bin/env node
// Fails when lib/db/schema.ts and migrations/ have drifted apart: drizzle-kit generates into a
// scratch copy of migrations/, and any new SQL file means someone changed the schema without
// running `npm run db:generate`. drizzle-kit can exit 0 after an error, so its output is read too.
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'

// drizzle-kit only takes an output folder relative to the working directory.
mkdirSync('node_modules/.cache', { recursive: true })
const scratch = relative(process.cwd(), mkdtempSync(join('node_modules/.cache', 'migrations-')))
try {
  cpSync('migrations', scratch, { recursive: true })
  const before = readdirSync(scratch).filter((f) => f.endsWith('.sql'))
  const run = spawnSync(
    'npx',
    [
      'drizzle-kit',
      'generate',
      '--dialect',
      'postgresql',
      '--schema',
      './lib/db/schema.ts',
      '--out',
      scratch,
    ],
    { encoding: 'utf8' },
  )
  const output = `${run.stdout}${run.stderr}`
  const after = readdirSync(scratch).filter((f) => f.endsWith('.sql'))
  if (run.status !== 0 || /error/i.test(output.replace(/npm warn.*\n/gi, ''))) {
    console.error(output)
    console.error('db:check: drizzle-kit failed')
    process.exit(1)
  }
  if (after.length !== before.length) {
    console.error(
      `db:check: lib/db/schema.ts has changes that migrations/ lacks; run npm run db:generate`,
    )
    process.exit(1)
  }
  console.log('db:check: schema and migrations agree')
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
