import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { addCounters, CompletionCounts, findTorrent, torrentPage } from '../catalog/index.ts'
import { rollupDaily } from '../stats/index.ts'
import { Publisher } from '../publish/index.ts'
import { startApi, type ApiServer } from '../../test/api-server.ts'
import { databaseKinds } from '../../test/databases.ts'
import {
  fixtureConfig,
  buildDebianTree,
  buildGentooTree,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import path from 'node:path'

const token = 'torrents-test-token-0123456789'

describe.each(databaseKinds)('torrents and stats API on %s', (_name, kind) => {
  let database: Awaited<ReturnType<typeof kind.open>>
  let api: ApiServer
  const trees: FixtureTree[] = []
  const torrentFiles: string[] = []

  beforeAll(async () => {
    database = await kind.open()
    // Hybrid, so every torrent has v1 and v2 info-hashes. The Debian tree is published second,
    // from another root: the Gentoo releases are gone from it, so they end up superseded.
    const gentoo = await buildGentooTree()
    const debian = await buildDebianTree()
    trees.push(gentoo, debian)
    for (const [tree, profile] of [
      [gentoo, 'gentoo'],
      [debian, 'debian'],
    ] as const) {
      const config = fixtureConfig(tree.root, { format: 'hybrid' }, profile)
      const publisher = new Publisher({ config, database })
      await publisher.reconcile()
      for (const r of tree.releases)
        torrentFiles.push(publisher.outputs.torrentFile(r.releaseDir, r.name))
    }
    api = await startApi({ token, database })
  }, 60_000)

  afterAll(async () => {
    await api?.close()
    await database?.close()
    for (const tree of trees) await tree.remove()
  })

  const everyRelease = () => trees.flatMap((t) => t.releases)

  describe('happy path', () => {
    it('lists every published torrent, a page at a time by cursor', async () => {
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const r: any = await api.call(
          'GET',
          `/torrents?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        )
        expect(r.status).toBe(200)
        expect(r.json.total).toBe(everyRelease().length)
        expect(r.json.torrents.length).toBeLessThanOrEqual(2)
        seen.push(...r.json.torrents.map((t: any) => `${t.releaseDir}/${t.name}`))
        // Which profile's rules made each torrent: the Debian tree's folder is Debian's.
        for (const t of r.json.torrents)
          expect(t.profile).toBe(t.releaseDir.startsWith('debian-cd/') ? 'debian' : 'gentoo')
        cursor = r.json.nextCursor
        pages++
      } while (cursor && pages < 10)
      expect(seen.sort()).toEqual(
        everyRelease()
          .map((r) => `${r.releaseDir}/${r.name}`)
          .sort(),
      )
    })

    it('pages by offset, and filters by release folder and status', async () => {
      const all = (await api.call('GET', '/torrents?limit=500')).json.torrents
      const second = (await api.call('GET', '/torrents?limit=1&offset=1')).json.torrents
      expect(second).toEqual([all[1]])
      const release = everyRelease()[0]
      const inDir = await api.call(
        'GET',
        `/torrents?releaseDir=${encodeURIComponent(release.releaseDir)}`,
      )
      expect(inDir.json.torrents.map((t: any) => t.name).sort()).toEqual(
        everyRelease()
          .filter((r) => r.releaseDir === release.releaseDir)
          .map((r) => r.name)
          .sort(),
      )
      const names = async (status: string) =>
        (await api.call('GET', `/torrents?status=${status}`)).json.torrents
          .map((t: any) => t.name)
          .sort()
      expect(await names('superseded')).toEqual(trees[0].releases.map((r) => r.name).sort())
      expect(await names('active')).toEqual(trees[1].releases.map((r) => r.name).sort())
      expect(await names('removed')).toEqual([])
    })

    it('shows one torrent by v1 or v2 info-hash: files, magnet, web seeds, stats', async () => {
      const bytes = await readFile(torrentFiles[0])
      // The info-hashes computed here from the file's bytes, not by our parser.
      const start = bytes.indexOf('4:infod') + 6
      const end = bytes.indexOf('12:piece layers')
      const info = bytes.subarray(start, end)
      const v1 = createHash('sha1').update(info).digest('hex')
      const v2 = createHash('sha256').update(info).digest('hex')
      const row = (await findTorrent(database.db, v1))!
      // What the tracker and the stats flush add as peers complete and bytes go out.
      await new CompletionCounts(database.db).addCompleted(new Map([[v1, 7]]))
      await addCounters(database.db, [[v1, { uploadedPeer: 1000, uploadedWebseed: 24, peers: 0 }]])
      for (const hash of [v1, v2, v1.toUpperCase()]) {
        const r = await api.call('GET', `/torrents/${hash}`)
        expect(r.status).toBe(200)
        const t = r.json.torrent
        expect(t).toMatchObject({
          infoHash: v1,
          infoHashV2: v2,
          format: 'hybrid',
          status: 'superseded',
        })
        expect(t.stats).toEqual({
          completed: 7,
          uploadedPeer: 1000,
          uploadedWebseed: 24,
          peakPeers: 0,
        })
        expect(t.magnet).toContain(`xt=urn:btih:${v1}`)
        expect(t.magnet).toContain(`xt=urn:btmh:1220${v2}`)
        expect(t.webSeeds).toEqual([`http://seed.example:6969/webseed/${row.releaseDir}/`])
        expect(t.trackers[0]).toEqual(['http://seed.example:6969/announce'])
        expect(t.files.map((f: any) => path.posix.dirname(f.path))).toEqual(
          t.files.map(() => row.releaseDir),
        )
        expect(t.files.filter((f: any) => f.role === 'artifact')).toHaveLength(1)
      }
    })

    it('stats: totals over every torrent, daily rollups when there are some', async () => {
      const today = new Date().toISOString().slice(0, 10)
      const { rows } = await torrentPage(database.db, { limit: 500 })
      // A rollup long ago takes everything counted so far (7 completions, 1,024 bytes, from the
      // test before); what comes after is today's, rolled up as the appliance's timer does.
      await rollupDaily(database, { now: new Date('2001-01-01T12:00:00Z') })
      await new CompletionCounts(database.db).addCompleted(
        new Map([
          [rows[0].infoHash, 3],
          [rows[1].infoHash, 2],
        ]),
      )
      await addCounters(database.db, [
        [rows[0].infoHash, { uploadedPeer: 100, uploadedWebseed: 0, peers: 4 }],
        [rows[1].infoHash, { uploadedPeer: 50, uploadedWebseed: 0, peers: 9 }],
      ])
      await rollupDaily(database)
      const r = await api.call('GET', '/stats')
      expect(r.status).toBe(200)
      expect(r.json.stats.torrents).toMatchObject({
        active: trees[1].releases.length,
        superseded: trees[0].releases.length,
        removed: 0,
      })
      expect(r.json.stats.torrents.activeBytes).toBe(
        rows.filter((t) => t.status === 'active').reduce((s, t) => s + t.size, 0),
      )
      expect(r.json.stats.completed).toBe(7 + 3 + 2)
      expect(r.json.stats.uploaded).toEqual({ peer: 1000 + 100 + 50, webseed: 24 })
      expect(r.json.stats.daily).toEqual([
        { day: today, completed: 5, uploaded: 150, peakPeers: 9 },
      ])
      const long = await api.call('GET', '/stats?days=3660')
      expect(long.json.stats.daily.map((d: any) => d.day)).toEqual([today])
    })
  })

  describe('errors', () => {
    const bad: Array<[string, RegExp]> = [
      ['/torrents?limit=0', /query\.limit/],
      ['/torrents?limit=501', /query\.limit/],
      ['/torrents?limit=ten', /query\.limit/],
      ['/torrents?offset=-1', /query\.offset/],
      ['/torrents?status=deleted', /query\.status/],
      ['/torrents?cursor=%25%25', /query\.cursor/],
      ['/torrents?cursor=dDE&offset=1', /cursor or offset/],
      ['/torrents?sort=name', /Unrecognized key/],
      ['/torrents/abc', /path\.infohash/],
      [`/torrents/${'g'.repeat(40)}`, /path\.infohash/],
      ['/stats?days=0', /query\.days/],
    ]
    for (const [route, message] of bad) {
      it(`400 for ${route}`, async () => {
        const r = await api.call('GET', route)
        expect(r.status).toBe(400)
        expect(r.json.error.code).toBe('bad-request')
        expect(r.json.error.message).toMatch(message)
      })
    }
    it('404 for an info-hash nobody published, and for a path that is no endpoint', async () => {
      const r = await api.call('GET', `/torrents/${'0'.repeat(40)}`)
      expect(r).toMatchObject({ status: 404, json: { error: { code: 'not-found' } } })
      const none = await api.call('GET', '/nothing-here')
      expect(none).toMatchObject({ status: 404, json: { error: { code: 'not-found' } } })
    })
  })

  describe('security', () => {
    it('401 without the token, identical for a torrent that exists and one that does not', async () => {
      const [row] = (await torrentPage(database.db, { limit: 1 })).rows
      const bodies = new Set<string>()
      for (const route of [
        '/torrents',
        `/torrents/${row.infoHash}`,
        `/torrents/${'0'.repeat(40)}`,
        '/torrents/not-a-hash',
        '/torrents?limit=0',
        '/stats',
        '/nothing-here',
      ]) {
        for (const t of [null, 'x'.repeat(30)]) {
          const r = await api.call('GET', route, { token: t })
          expect(r.status, route).toBe(401)
          bodies.add(r.text)
        }
      }
      expect(bodies.size).toBe(1)
    })
  })
})
