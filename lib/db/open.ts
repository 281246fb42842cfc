import { DatabaseError } from './errors.ts'
import { embeddedFolder, type DatabaseHandle } from './handle.ts'
import { compilePgliteWasm } from './pglite-wasm.ts'
import { lockDataDir } from './lock.ts'
import { fromTemplate, isEmptyFolder } from './template.ts'

/**
 * Opens the database the configuration names: Postgres when `url` is set, else the embedded
 * PGlite in `<dataDir>/db`, locked to this process.
 *
 * @example
 * const database = await openDatabase({ url: process.env.DATABASE_URL, dataDir: './data' })
 * await database.migrate()
 */
export async function openDatabase(options: {
  url?: string
  dataDir: string
}): Promise<DatabaseHandle> {
  // Only the driver in use is loaded: the other one and its drizzle adapter cost a first `scan`
  // ~0.1 s of start-up (bench/scan.ts).
  const handle = options.url
    ? await (await import('./postgres.ts')).openPostgres(options.url)
    : await openEmbedded(options.dataDir)
  try {
    await handle.ping()
  } catch (err) {
    await handle.close().catch(() => {})
    const where = options.url ? redact(options.url) : embeddedFolder(options.dataDir)
    throw new DatabaseError(
      'unreachable',
      `database ${where} does not answer: ${(err as Error).message}`,
    )
  }
  return handle
}

/**
 * Whether {@link openDatabase} will make a new, empty database: the embedded one, in a data
 * folder that holds none yet. Postgres may hold anything until asked.
 */
export function isNewDatabase(options: { url?: string; dataDir: string }): boolean {
  return !options.url && isEmptyFolder(embeddedFolder(options.dataDir))
}

async function openEmbedded(dataDir: string): Promise<DatabaseHandle> {
  const wasm = compilePgliteWasm()
  // Settled by openPglite; until then a failure must not surface as an unhandled rejection.
  wasm.catch(() => {})
  // Locked, and a new folder's unpacking from the template started on its thread, before PGlite's
  // modules load: a first start waits on that unpacking, and loading them first held it back by
  // ~50 ms (node --cpu-prof of a first `scan`).
  const release = lockDataDir(dataDir)
  const made = fromTemplate(embeddedFolder(dataDir))
  try {
    const [{ openPglite }] = await Promise.all([import('./pglite.ts'), made])
    return await openPglite(dataDir, wasm, release)
  } catch (err) {
    // The folder stays locked until its unpacking has ended, whichever of the two failed.
    await made.catch(() => {})
    release()
    throw err
  }
}

/** A database URL fit for a log line: the password is never printed. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'DATABASE_URL (unparsable)'
  }
}
