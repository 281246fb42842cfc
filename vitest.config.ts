import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'apps/**/*.test.ts', 'test/**/*.test.ts'],
    // Real sockets, real files, real databases and real clients: give them time, and run files
    // in separate processes so a server left listening by one file cannot confuse another.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
})
