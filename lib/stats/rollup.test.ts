import { describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { type DatabaseHandle } from '../db/index.ts'
import { statsDaily } from '../db/schema.ts'
import { addCounters, CompletionCounts, countersOf, recordPublished } from '../catalog/index.ts'
import { databaseKinds } from '../../test/databases.ts'
import { dailyStats, rollupDaily } from './index.ts'

const hashOf = (name: string) => name.padEnd(40, '0')

/** A torrent as the generator records it, with counters at zero. */
async function torrent(database: DatabaseHandle, name: string): Promise<number> {
  const { id } = await recordPublished(database.db, {
    infoHash: hashOf(name),
    infoHashV2: null,
    name,
    releaseDir: 'releases/amd64',
    profile: null,
    format: 'v1',
    pieceLength: 262144,
    size: 1000,
    metainfo: Buffer.from('d4:infode'),
    files: [
      {
        path: `releases/amd64/${name}`,
        size: 1000,
        role: 'artifact',
        mtimeMs: 0,
        inode: 1,
        sha256: null,
      },
    ],
  })
  return id
}

type Totals = {
  completed: number
  uploadedPeer: number
  uploadedWebseed: number
  peakPeers: number
}
const flushedSoFar = new WeakMap<DatabaseHandle, Map<string, Totals>>()

/**
 * What the tracker, seeder and web seed would have flushed by now (running totals): added the
 * way they add them, the difference since the last call, with the peak of peers seen.
 */
async function flushed(database: DatabaseHandle, name: string, s: Totals) {
  const seen = flushedSoFar.get(database) ?? new Map<string, Totals>()
  flushedSoFar.set(database, seen)
  const before = seen.get(name) ?? {
    completed: 0,
    uploadedPeer: 0,
    uploadedWebseed: 0,
    peakPeers: 0,
  }
  seen.set(name, s)
  await addCounters(database.db, [
    [
      hashOf(name),
      {
        uploadedPeer: s.uploadedPeer - before.uploadedPeer,
        uploadedWebseed: s.uploadedWebseed - before.uploadedWebseed,
        peers: s.peakPeers,
      },
    ],
  ])
  const completed = s.completed - before.completed
  if (completed > 0)
    await new CompletionCounts(database.db).addCompleted(new Map([[hashOf(name), completed]]))
}

async function days(database: DatabaseHandle, id: number) {
  return database.db
    .select({
      day: statsDaily.day,
      completed: statsDaily.completed,
      uploaded: statsDaily.uploaded,
      peakPeers: statsDaily.peakPeers,
    })
    .from(statsDaily)
    .where(eq(statsDaily.torrentId, id))
    .orderBy(statsDaily.day)
}

describe.each(databaseKinds)('daily rollups on %s', (_name, kind) => {
  it('turns running totals into per-day completions, bytes and peak peers', async () => {
    const database = await kind.open()
    try {
      const iso = await torrent(database, 'iso')
      const quiet = await torrent(database, 'quiet')
      const morning = new Date('2026-11-20T08:00:00Z')
      const evening = new Date('2026-11-20T20:00:00Z')
      const nextDay = new Date('2026-11-21T09:00:00Z')

      await flushed(database, 'iso', {
        completed: 3,
        uploadedPeer: 100,
        uploadedWebseed: 50,
        peakPeers: 5,
      })
      expect(await rollupDaily(database, { now: morning })).toEqual({ day: '2026-11-20', rows: 1 })
      // The same day again: the row is rewritten, not added to; the peak is kept.
      await flushed(database, 'iso', {
        completed: 5,
        uploadedPeer: 300,
        uploadedWebseed: 50,
        peakPeers: 2,
      })
      await rollupDaily(database, { now: evening })
      await rollupDaily(database, { now: evening })
      expect(await days(database, iso)).toEqual([
        { day: '2026-11-20', completed: 5, uploaded: 350, peakPeers: 5 },
      ])

      // The next day holds only what happened since.
      await flushed(database, 'iso', {
        completed: 9,
        uploadedPeer: 1300,
        uploadedWebseed: 60,
        peakPeers: 4,
      })
      await rollupDaily(database, { now: nextDay })
      expect(await days(database, iso)).toEqual([
        { day: '2026-11-20', completed: 5, uploaded: 350, peakPeers: 5 },
        { day: '2026-11-21', completed: 4, uploaded: 1010, peakPeers: 4 },
      ])
      // A torrent nobody downloaded gets no rows.
      expect(await days(database, quiet)).toEqual([])

      const all = await dailyStats(database)
      expect(all.map((r) => [r.day, r.name, r.completed])).toEqual([
        ['2026-11-20', 'iso', 5],
        ['2026-11-21', 'iso', 4],
      ])
      expect((await dailyStats(database, { from: '2026-11-21' })).map((r) => r.day)).toEqual([
        '2026-11-21',
      ])
    } finally {
      await database.close()
    }
  })

  it('takes the peak since the last rollup, not the all-time one', async () => {
    const database = await kind.open()
    try {
      const iso = await torrent(database, 'iso')
      await flushed(database, 'iso', {
        completed: 1,
        uploadedPeer: 0,
        uploadedWebseed: 0,
        peakPeers: 40,
      })
      await rollupDaily(database, { now: new Date('2026-11-20T23:00:00Z') })
      expect((await countersOf(database.db, [iso])).get(iso)?.peakPeers).toBe(0)
      // A quiet next day: one new peer, and the 40 of yesterday do not carry over.
      await flushed(database, 'iso', {
        completed: 1,
        uploadedPeer: 0,
        uploadedWebseed: 0,
        peakPeers: 1,
      })
      await rollupDaily(database, { now: new Date('2026-11-21T12:00:00Z') })
      expect((await days(database, iso)).map((d) => [d.day, d.peakPeers, d.completed])).toEqual([
        ['2026-11-20', 40, 1],
        ['2026-11-21', 1, 0],
      ])
    } finally {
      await database.close()
    }
  })
})
