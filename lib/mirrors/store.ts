import { and, asc, count, eq, max } from 'drizzle-orm'
import { recordEvent } from '../catalog/index.ts'
import type { Database } from '../db/index.ts'
import { mirrors } from '../db/schema.ts'
import { MirrorError } from './errors.ts'

/** A `mirrors` row: the one shape the pages, the API and the checks read. */
export type MirrorRow = typeof mirrors.$inferSelect

export interface MirrorChange {
  baseUrl?: string
  enabled?: boolean
}

export function listMirrors(db: Database): Promise<MirrorRow[]> {
  return db.select().from(mirrors).orderBy(asc(mirrors.name))
}

export async function getMirror(db: Database, name: string): Promise<MirrorRow> {
  const [row] = await db.select().from(mirrors).where(eq(mirrors.name, name))
  if (!row) throw new MirrorError('not-found', `no mirror named ${JSON.stringify(name)}`)
  return row
}

/** A new mirror starts `unknown`: it is a web seed only once a check has seen it serve. */
export async function addMirror(
  db: Database,
  mirror: { name: string; baseUrl: string; enabled?: boolean },
): Promise<MirrorRow> {
  const { mirrorName, mirrorUrl } = await import('./fields.ts')
  const name = mirrorName.safeParse(mirror.name)
  if (!name.success)
    throw new MirrorError('bad-input', `mirror name: ${name.error.issues[0].message}`)
  const baseUrl = mirrorUrl.safeParse(mirror.baseUrl)
  if (!baseUrl.success)
    throw new MirrorError('bad-input', `mirror URL: ${baseUrl.error.issues[0].message}`)
  const [row] = await db
    .insert(mirrors)
    .values({ name: name.data, baseUrl: baseUrl.data, enabled: mirror.enabled ?? true })
    .onConflictDoNothing({ target: mirrors.name })
    .returning()
  if (!row) throw new MirrorError('exists', `a mirror named ${JSON.stringify(mirror.name)} exists`)
  return row
}

/** A new base URL is a new mirror as far as health goes: its status goes back to `unknown`. */
export async function updateMirror(
  db: Database,
  name: string,
  change: MirrorChange,
): Promise<MirrorRow> {
  const current = await getMirror(db, name)
  const set: Partial<MirrorRow> = { updatedAt: new Date() }
  if (change.enabled !== undefined) set.enabled = change.enabled
  if (change.baseUrl !== undefined) {
    const { mirrorUrl } = await import('./fields.ts')
    const baseUrl = mirrorUrl.safeParse(change.baseUrl)
    if (!baseUrl.success)
      throw new MirrorError('bad-input', `mirror URL: ${baseUrl.error.issues[0].message}`)
    if (baseUrl.data !== current.baseUrl) {
      Object.assign(set, { baseUrl: baseUrl.data, status: 'unknown', latencyMs: null })
    }
  }
  const [row] = await db.update(mirrors).set(set).where(eq(mirrors.id, current.id)).returning()
  return row
}

export async function removeMirror(db: Database, name: string): Promise<void> {
  const gone = await db.delete(mirrors).where(eq(mirrors.name, name)).returning({ id: mirrors.id })
  if (gone.length === 0)
    throw new MirrorError('not-found', `no mirror named ${JSON.stringify(name)}`)
}

export interface CheckOutcome {
  status: 'up' | 'down'
  latencyMs: number | null
  error: string | null
}

/**
 * Records a check; a change of status (from `unknown` too) is also an event, in the same
 * transaction. Returns the status before.
 */
export async function recordCheck(
  db: Database,
  mirror: MirrorRow,
  outcome: CheckOutcome,
): Promise<MirrorRow['status']> {
  return db.transaction(async (tx) => {
    const [before] = await tx
      .select({ status: mirrors.status })
      .from(mirrors)
      .where(eq(mirrors.id, mirror.id))
    if (!before) return outcome.status // removed while it was being checked
    const now = new Date()
    await tx
      .update(mirrors)
      .set({
        status: outcome.status,
        latencyMs: outcome.latencyMs,
        lastError: outcome.error,
        lastCheckAt: now,
        updatedAt: now,
      })
      .where(eq(mirrors.id, mirror.id))
    if (before.status !== outcome.status) {
      await recordEvent(tx, {
        kind: outcome.status === 'up' ? 'mirror_up' : 'mirror_down',
        mirrorId: mirror.id,
        subject: mirror.name,
        message:
          outcome.status === 'up'
            ? `mirror ${mirror.name} is up (${outcome.latencyMs} ms)`
            : `mirror ${mirror.name} is down: ${outcome.error}`,
        detail: { baseUrl: mirror.baseUrl, before: before.status },
      })
    }
    return before.status
  })
}

/**
 * Enabled mirrors whose last health check passed: the web seeds a torrent lists. A mirror never
 * checked is left out, since clients pause a web seed that fails them (Transmission after a few
 * failures) and a bad one costs every downloader time.
 */
export async function healthyMirrors(db: Database): Promise<Array<{ baseUrl: string }>> {
  return db
    .select({ baseUrl: mirrors.baseUrl })
    .from(mirrors)
    .where(and(eq(mirrors.enabled, true), eq(mirrors.status, 'up')))
    .orderBy(mirrors.name)
}

/** Enabled mirrors, by name: what a check round goes over. */
export function enabledMirrors(db: Database): Promise<MirrorRow[]> {
  return db.select().from(mirrors).where(eq(mirrors.enabled, true)).orderBy(mirrors.name)
}

/** A short text that changes whenever a mirror is added, removed or changed; cheap to poll. */
export async function mirrorsSignature(db: Database): Promise<string> {
  const [m] = await db.select({ n: count(), at: max(mirrors.updatedAt) }).from(mirrors)
  return `${m?.n}/${m?.at?.valueOf()}`
}

/** Enabled mirrors by health, and how many are enabled. */
export async function mirrorHealthCounts(
  db: Database,
): Promise<{ up: number; down: number; unknown: number; enabled: number }> {
  const rows = await db
    .select({ status: mirrors.status, n: count() })
    .from(mirrors)
    .where(eq(mirrors.enabled, true))
    .groupBy(mirrors.status)
  const out = { up: 0, down: 0, unknown: 0, enabled: 0 }
  for (const r of rows) {
    out[r.status] = Number(r.n)
    out.enabled += Number(r.n)
  }
  return out
}
