import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { log } from '../log/index.ts'

export function tokenFile(dataDir: string): string {
  return path.join(dataDir, 'admin-token')
}

/**
 * The admin token: from the configuration, else from `<dataDir>/admin-token`, else a new random
 * one written there with mode 0600. The file's path is logged, never the token.
 */
export function adminToken(config: { adminToken?: string; dataDir: string }): string {
  if (config.adminToken) return config.adminToken
  const file = tokenFile(config.dataDir)
  try {
    const saved = readFileSync(file, 'utf8').trim()
    if (saved) return saved
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(32).toString('base64url')
  mkdirSync(config.dataDir, { recursive: true })
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' })
  log.info('generated an admin token', { file })
  return token
}

/** What the command line uses to talk to a running appliance: never generates one. */
export function readAdminToken(config: {
  adminToken?: string
  dataDir: string
}): string | undefined {
  if (config.adminToken) return config.adminToken
  try {
    return readFileSync(tokenFile(config.dataDir), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}
