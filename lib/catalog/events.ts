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
