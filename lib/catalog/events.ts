import { desc, eq } from 'drizzle-orm'
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

/** A release's last verification failure: why, and the files' fingerprint it was made on. */
export interface Failure {
  message: string
  fingerprint?: string
}

/**
 * The last verification failure recorded for each of `subjects` (release keys) that has one, to
 * avoid re-reading unchanged files. One query for a whole pass: asked per release, it was one
 * more blocking round trip on the embedded database for every release of a first scan.
 */
export async function lastFailures(
  db: Database,
  subjects: readonly string[],
): Promise<Map<string, Failure>> {
  const found = new Map<string, Failure>()
  if (subjects.length === 0) return found
  const wanted = new Set(subjects)
  // Newest first: the first row seen of a subject is its last failure. Failures are few (one per
  // release and fingerprint: an unchanged release that failed is skipped, not failed again), so
  // all of them are read rather than a parameter list as long as the pass.
  const rows = await db
    .select({ subject: events.subject, message: events.message, detail: events.detail })
    .from(events)
    .where(eq(events.kind, 'verification_failed'))
    .orderBy(desc(events.id))
  for (const { subject, message, detail } of rows) {
    if (subject === null || !wanted.has(subject) || found.has(subject)) continue
    found.set(subject, {
      message,
      fingerprint: (detail as { fingerprint?: string } | null)?.fingerprint,
    })
  }
  return found
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
