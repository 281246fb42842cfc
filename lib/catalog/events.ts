import { and, desc, eq } from 'drizzle-orm'
import type { Database } from '../db/index.ts'
import { events, type EventKind } from '../db/schema.ts'

export type { EventKind }

/** One line of the `events` log: what happened, to which torrent, mirror or path. */
export interface EventEntry {
  kind: EventKind
  /** The release dir, path or mirror name the event is about, kept when its row is gone. */
  subject: string
  message: string
  detail?: Record<string, unknown>
  torrentId?: number
  mirrorId?: number
}

/** Appends an event; `db` may be a transaction, so the event commits with what it reports. */
export async function recordEvent(db: Database, entry: EventEntry): Promise<void> {
  await db.insert(events).values(entry)
}

/** The last verification failure recorded for a release, to avoid re-reading unchanged files. */
export async function lastFailure(
  db: Database,
  subject: string,
): Promise<{ message: string; fingerprint?: string } | undefined> {
  const [row] = await db
    .select({ message: events.message, detail: events.detail })
    .from(events)
    .where(and(eq(events.kind, 'verification_failed'), eq(events.subject, subject)))
    .orderBy(desc(events.id))
    .limit(1)
  if (!row) return undefined
  const detail = row.detail as { fingerprint?: string } | null
  return { message: row.message, fingerprint: detail?.fingerprint }
}

/** One logged event as read back: the entry, its place in the log and when it happened. */
export interface LoggedEvent extends EventEntry {
  id: number
  at: Date
}

/**
 * The log, oldest first: the newest `limit` events (all without one), of one kind if asked. What
 * an operator reads to see what the generator and the mirror checks did.
 */
export async function eventLog(
  db: Database,
  query: { kind?: EventKind; limit?: number } = {},
): Promise<LoggedEvent[]> {
  const newest = db
    .select()
    .from(events)
    .where(query.kind ? eq(events.kind, query.kind) : undefined)
    .orderBy(desc(events.id))
  const rows = await (query.limit === undefined ? newest : newest.limit(query.limit))
  return rows.reverse().map((r) => ({
    id: r.id,
    at: r.at,
    kind: r.kind,
    subject: r.subject ?? '',
    message: r.message,
    ...(r.detail ? { detail: r.detail as Record<string, unknown> } : {}),
    ...(r.torrentId !== null ? { torrentId: r.torrentId } : {}),
    ...(r.mirrorId !== null ? { mirrorId: r.mirrorId } : {}),
  }))
}
