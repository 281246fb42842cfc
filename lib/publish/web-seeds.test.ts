import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { findTorrent } from '../catalog/index.ts'
import { parseTorrent, trackerKeyHex } from '../metainfo/index.ts'
import { addMirror, recordCheck } from '../mirrors/index.ts'
import { databaseKinds } from '../../test/databases.ts'
import {
  buildGentooTree,
  fixtureConfig,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { Publisher, refreshWebSeeds } from './index.ts'

const trees: FixtureTree[] = []
afterEach(async () => {
  for (const tree of trees.splice(0)) await tree.remove()
})

describe.each(databaseKinds)('url-list rewrites on %s', (_name, kind) => {
  it('rewrite the published .torrent and its row for a healthy mirror, and tell the feed', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      const config = fixtureConfig(tree.root)
      await new Publisher({ config, database }).reconcile()
      const release = tree.releases[0]
      const file = path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`)
      const before = parseTorrent(readFileSync(file))

      // A mirror that is not up is no web seed: nothing to rewrite, nothing told.
      const mirror = await addMirror(database.db, {
        name: 'near',
        baseUrl: 'http://mirror.example/gentoo',
      })
      const told: string[] = []
      const events = { rewritten: (infoHash: string) => told.push(infoHash) }
      expect(await refreshWebSeeds({ config, database, events })).toEqual([])
      expect(told).toEqual([])

      await recordCheck(database.db, mirror, { status: 'up', latencyMs: 5, error: null })
      const rewritten = await refreshWebSeeds({ config, database, events })
      expect(rewritten).toHaveLength(tree.releases.length)
      expect(told.sort()).toEqual([...rewritten].sort())

      const after = parseTorrent(readFileSync(file))
      expect(trackerKeyHex(after)).toBe(trackerKeyHex(before))
      expect(after.urlList.some((u) => u.startsWith('http://mirror.example/gentoo/'))).toBe(true)
      const row = await findTorrent(database.db, trackerKeyHex(after))
      expect(row?.metainfo.equals(readFileSync(file))).toBe(true)

      // Once in line, a second pass changes nothing.
      expect(await refreshWebSeeds({ config, database, events })).toEqual([])
    } finally {
      await database.close()
    }
  })
})
