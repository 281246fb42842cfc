import { readdirSync, readFileSync } from 'node:fs'
import { defineConfig } from 'vitest/config'

/**
 * Two runs. `unit` is the edit-test loop: the tests beside the code in lib/ and apps/ that run
 * on their own, in well under a minute. `interop` is everything that drives a real program or a
 * real database, or needs seconds of budget per test: test/ (real clients, `serve` end to end),
 * and the lib/ tests that decide so by what they do (below). `npm test` runs both in one run.
 */
const besideCode = ['lib', 'apps'].flatMap((dir) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => `${dir}/${file}`),
)

/**
 * A lib/ test belongs to the interop run when it
 * - imports a test/ helper that opens a real database or starts a real program (Postgres and
 *   PGlite, mktorrent, libtorrent, nginx, rsync, gpg, …): everything in test/ but the fixture trees;
 * - or is a fuzz test, which spends its seconds of budget on purpose.
 * So a new test lands in the right run by what it does, with no list to keep.
 */
function interop(file: string): boolean {
  if (/fuzz/.test(file)) return true
  const source = readFileSync(file, 'utf8')
  return /from '(\.\.\/)+test\/(?!fixtures\/)[^']+'/.test(source)
}

const unitFiles = besideCode.filter((file) => !interop(file))
const interopFiles = ['test/**/*.test.ts', ...besideCode.filter(interop)]

export default defineConfig({
  test: {
    // Real sockets, real files, real databases and real clients: give them time, and run files
    // in separate processes so a server left listening by one file cannot confuse another.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // No test reaches the public DHT: every `serve` a test starts, in-process or as a process,
    // bootstraps from a loopback port nobody answers on unless the test names its own node.
    env: { MIRRORSEED_DHT_BOOTSTRAP: '127.0.0.1:9' },
    // Reporters belong to the whole run, so the closing line is printed once, for both projects.
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: unitFiles } },
      { extends: true, test: { name: 'interop', include: interopFiles } },
    ],
  },
})
