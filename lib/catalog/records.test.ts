import { describe, expect, it } from 'vitest'
import { databaseKinds } from '../../test/databases.ts'
import { publishedRow } from '../../test/catalog-rows.ts'
import { eventLog, loadTracked, recordPublished } from './index.ts'

const file = (path: string, size: number, sha256: string | null = null) => ({
  path,
  size,
  role: 'companion' as const,
  mtimeMs: size,
  inode: size,
  sha256,
})

describe.each(databaseKinds)('recording a published torrent on %s', (_name, kind) => {
  it('a torrent recorded again keeps its id and holds exactly the files it lists now', async () => {
    const database = await kind.open()
    try {
      const first = publishedRow('img', {
        files: [file('r/img', 10), file('r/img.asc', 1), file('r/img.sha256', 2)],
      })
      const { id } = await recordPublished(database.db, first)
      // The same info-hash seen again (a release put back): its old .asc is gone, its .sha256
      // changed, a CONTENTS file is new.
      const again = await recordPublished(database.db, {
        ...first,
        files: [file('r/img', 10), file('r/img.sha256', 3, 'ab'.repeat(32)), file('r/img.gz', 4)],
      })
      expect(again).toEqual({ id, superseded: [] })
      const [tracked] = await loadTracked(database.db)
      expect(tracked.id).toBe(id)
      expect(tracked.status).toBe('active')
      expect(tracked.files.map((f) => [f.path, f.size]).sort()).toEqual([
        ['r/img', 10],
        ['r/img.gz', 4],
        ['r/img.sha256', 3],
      ])
    } finally {
      await database.close()
    }
  })

  it('a new torrent of the same release supersedes the active one, and the log says so', async () => {
    const database = await kind.open()
    try {
      const old = publishedRow('img', { infoHash: 'aa'.repeat(20) })
      const { id: oldId } = await recordPublished(database.db, old)
      const recorded = await recordPublished(
        database.db,
        publishedRow('img', { infoHash: 'bb'.repeat(20), size: 2 }),
      )
      expect(recorded.superseded).toEqual(['aa'.repeat(20)])
      expect(recorded.id).not.toBe(oldId)
      const tracked = await loadTracked(database.db)
      expect(tracked.map((t) => [t.infoHash, t.status]).sort()).toEqual([
        ['aa'.repeat(20), 'superseded'],
        ['bb'.repeat(20), 'active'],
      ])
      expect(tracked.find((t) => t.id === oldId)?.supersededAt).toBeInstanceOf(Date)
      const log = await eventLog(database.db)
      expect(log.map((e) => [e.kind, e.message])).toEqual([
        ['published', 'published r/img'],
        ['published', 'published r/img'],
        ['superseded', `r/img: ${'aa'.repeat(20)} superseded by ${'bb'.repeat(20)}`],
      ])
      // The old one coming back supersedes the new one in turn: nothing is left half-active.
      const back = await recordPublished(database.db, old)
      expect(back).toEqual({ id: oldId, superseded: ['bb'.repeat(20)] })
      const statuses = (await loadTracked(database.db)).map((t) => [t.infoHash, t.status]).sort()
      expect(statuses).toEqual([
        ['aa'.repeat(20), 'active'],
        ['bb'.repeat(20), 'superseded'],
      ])
    } finally {
      await database.close()
    }
  })
})
