#!/usr/bin/env node
// `npm run bench`: every `bench:*` script of package.json, one after another (never at once:
// they measure throughput on a shared machine, and the ratios only mean something one at a time).
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const { scripts } = JSON.parse(readFileSync('package.json', 'utf8'))
const names = Object.keys(scripts).filter((name) => name.startsWith('bench:'))
let failed = 0
for (const name of names) {
  console.log(`\n== npm run ${name}`)
  const run = spawnSync('npm', ['run', '--silent', name], { stdio: 'inherit' })
  if (run.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
