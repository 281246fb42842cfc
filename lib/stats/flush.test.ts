import { describe, expect, it } from 'vitest'
import { databaseKinds } from '../../test/databases.ts'
import { countersOf, recordPublished } from '../catalog/index.ts'
import type { Database } from '../db/index.ts'
import { StatsFlusher } from './index.ts'

const hash = 'cd'.repeat(20)

/** A torrent as the generator records it, with counters at zero. */
async function seed(db: Database, infoHash = hash) {
  const { id } = await recordPublished(db, {
    infoHash,
    infoHashV2: null,
    name: 'n',
    releaseDir: 'r',
    profile: null,
    format: 'v1',
    pieceLength: 262144,
    size: 1,
    metainfo: Buffer.from('de'),
    files: [{ path: 'r/n', size: 1, role: 'artifact', mtimeMs: 0, inode: 1, sha256: null }],
  })
  return id
}

describe.each(databaseKinds)('torrent stats on %s', (_name, kind) => {
  it('adds what was served since the last flush, and keeps the peak of peers', async () => {
    const database = await kind.open()
    try {
      const id = await seed(database.db)
      let peer = 1000
      let web = 0
      let peers = 7
      const flusher = new StatsFlusher(database, {
        uploadedPeer: () => [[hash, peer]],
        uploadedWebseed: () => [[hash, web]],
        peers: () => [[hash, peers]],
      })
      await flusher.flush()
      peer = 1500
      web = 2 ** 33 // past 32 bits
      peers = 3
      await flusher.flush()
      const read = async () => (await countersOf(database.db, [id])).get(id)
      const before = await read()
      // Nothing new: nothing added twice, and not one statement sent (a flush used to rewrite
      // every torrent's row each tick, a fifth of serve's CPU under announce load on PGlite).
      const execute = database.db.execute.bind(database.db)
      let statements = 0
      database.db.execute = ((query: Parameters<typeof execute>[0]) => {
        statements++
        return execute(query)
      }) as typeof database.db.execute
      await flusher.flush()
      database.db.execute = execute
      expect(statements).toBe(0)
      expect(await read()).toEqual(before)
      const row = await read()
      expect(row?.uploadedPeer).toBe(1500)
      expect(row?.uploadedWebseed).toBe(2 ** 33)
      expect(row?.peakPeers).toBe(7)
    } finally {
      await database.close()
    }
  })

  it('loses nothing while the database cannot be written', async () => {
    const database = await kind.open()
    try {
      const id = await seed(database.db)
      let peer = 100
      const flusher = new StatsFlusher(database, { uploadedPeer: () => [[hash, peer]] })
      // The table is away for a while (a stand-in for a database outage), then back.
      await database.db.execute('alter table torrent_stats rename to torrent_stats_away')
      await flusher.flush()
      peer = 250
      await flusher.flush()
      await database.db.execute('alter table torrent_stats_away rename to torrent_stats')
      await flusher.close()
      expect((await countersOf(database.db, [id])).get(id)?.uploadedPeer).toBe(250)
    } finally {
      await database.close()
    }
  })

  it('writes a large flush in slices, and puts back only the slices that did not land', async () => {
    const database = await kind.open()
    try {
      const hashes = ['a1', 'a2', 'a3', 'a4', 'a5'].map((h) => h.repeat(20))
      const ids = []
      for (const h of hashes) ids.push(await seed(database.db, h))
      const flusher = new StatsFlusher(
        database,
        { uploadedPeer: () => hashes.map((h) => [h, 100] as [string, number]) },
        2,
      )
      // The third slice's torrent cannot be written for now; the two slices before it land.
      await database.db.execute(`create function refuse() returns trigger language plpgsql as $$
        begin raise exception 'refused'; end $$`)
      await database.db.execute(`create trigger refuse before update on torrent_stats for each row
        when (old.torrent_id = ${ids[4]}) execute function refuse()`)
      await flusher.flush()
      const first = await countersOf(database.db, ids)
      expect(ids.map((id) => first.get(id)?.uploadedPeer)).toEqual([100, 100, 100, 100, 0])
      await database.db.execute('drop trigger refuse on torrent_stats')
      await flusher.close()
      const after = await countersOf(database.db, ids)
      expect(ids.map((id) => after.get(id)?.uploadedPeer)).toEqual([100, 100, 100, 100, 100])
    } finally {
      await database.close()
    }
  })
})
