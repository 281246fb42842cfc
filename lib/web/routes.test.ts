import { afterEach, describe, expect, it, vi } from 'vitest'
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { loadConfig } from '../config/index.ts'
import { activeRecords, loadTracked, replaceMetainfo, retire } from '../catalog/index.ts'
import { addMirror, recordCheck } from '../mirrors/index.ts'
import { decode, encode } from '../bencode/index.ts'
import { parseTorrent } from '../metainfo/index.ts'
import { Publisher } from '../publish/index.ts'
import { databaseKinds } from '../../test/databases.ts'
import {
  buildGentooTree,
  fixtureMinSize,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { webRoutes } from './index.ts'
import { PublicCatalog } from './public-catalog.ts'

const publicUrl = 'http://seed.example:6969'
const trees: FixtureTree[] = []
afterEach(async () => {
  for (const tree of trees.splice(0)) await tree.remove()
})

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (name) => ['item', 'file', 'url'].includes(name),
})

function parseXml(text: string) {
  // A real parser: malformed XML (bad escaping, unclosed tags) fails here, not in a reader.
  expect(XMLValidator.validate(text)).toBe(true)
  return xml.parse(text)
}

describe.each(databaseKinds)('public pages on %s', (_name, kind) => {
  async function published() {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    const config = loadConfig({
      env: {},
      overrides: {
        root: tree.root,
        profile: 'gentoo',
        publicUrl,
        release: { minSize: fixtureMinSize },
      } as never,
    })
    await new Publisher({ config, database }).reconcile()
    const rows = await activeRecords(database.db)
    const torrentFile = (releaseDir: string, name: string) =>
      path.join(tree.root, 'torrents', releaseDir, `${name}.torrent`)
    return { tree, database, rows, torrentFile }
  }

  it('lists every active torrent under its release dir, with live swarm counts and links', async () => {
    const { tree, database, rows } = await published()
    try {
      // One mirror a check found up, one it found down, one never checked yet.
      const osuosl = await addMirror(database.db, {
        name: 'osuosl',
        baseUrl: 'https://gentoo.osuosl.org',
      })
      await recordCheck(database.db, osuosl, { status: 'up', latencyMs: 40, error: null })
      const slow = await addMirror(database.db, {
        name: 'slowmirror',
        baseUrl: 'https://slow.example',
      })
      await recordCheck(database.db, slow, {
        status: 'down',
        latencyMs: null,
        error: 'redirected to http://10.1.2.3/mirror?token=s3cret',
      })
      await addMirror(database.db, { name: 'newmirror', baseUrl: 'https://new.example' })
      const [iso] = rows.filter((r) => r.name.startsWith('install'))
      const app = webRoutes({
        database,
        publicUrl,
        swarmStats: (h) =>
          h === iso!.infoHash ? { complete: 7, incomplete: 3, downloaded: 42 } : undefined,
      })
      const res = await app.request('/')
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      const html = await res.text()
      expect(html.startsWith('<!doctype html>')).toBe(true)
      // The folder, and the profile whose rules made its torrents (profile: auto).
      expect(html).toContain(
        `<h2>${tree.releases[0]!.releaseDir}<small class="profile"> · gentoo</small></h2>`,
      )
      for (const release of tree.releases) {
        expect(html).toContain(`<h3>${release.name}</h3>`)
        expect(html).toContain(`href="/torrents/${release.releaseDir}/${release.name}.torrent"`)
      }
      const card = html.slice(html.indexOf(`data-infohash="${iso!.infoHash}"`))
      expect(card).toMatch(/<dt>Seeds<\/dt><dd>7<\/dd>/)
      expect(card).toMatch(/<dt>Peers<\/dt><dd>3<\/dd>/)
      expect(card).toMatch(/<dt>Completed<\/dt><dd>42<\/dd>/)
      expect(card).toMatch(/<dt>Files<\/dt><dd>5<\/dd>/)
      expect(html).toContain(`magnet:?xt=urn:btih:${iso!.infoHash}`)
      expect(html).toMatch(/<td>osuosl<\/td><td class="up"[^>]*>up<\/td>/)
      expect(html).toMatch(/<td>slowmirror<\/td><td class="down">down<\/td><td><time /)
      expect(html).toMatch(/<td>newmirror<\/td><td class="unknown">unknown<\/td><td>never<\/td>/)
      // The check's error is internal detail: the admin API has it, the public page does not.
      expect(html).not.toContain('s3cret')
      expect(html).not.toContain('10.1.2.3')
    } finally {
      await database.close()
    }
  })

  it('rebuilds a magnet link when the .torrent is rewritten with new web seeds', async () => {
    const { database, rows } = await published()
    try {
      const catalog = new PublicCatalog(database, 0)
      const app = webRoutes({ database, catalog, publicUrl, cacheMs: 0 })
      const row = rows[0]!
      const before = await (await app.request('/')).text()
      expect(before).not.toContain(encodeURIComponent('https://mirror.example/'))
      // What the mirrors role does when a mirror turns healthy: same info, longer url-list.
      const meta = decode(row.metainfo) as Record<string, unknown>
      meta['url-list'] = [...parseTorrent(row.metainfo).urlList, 'https://mirror.example/']
      await replaceMetainfo(database.db, row.id, encode(meta as never))
      // Pages come from memory: nothing changes until the catalog reloads (on a feed event, or
      // its periodic refresh, which this stands for).
      expect(await (await app.request('/')).text()).toBe(before)
      await catalog.reload()
      const after = await (await app.request('/')).text()
      const card = after.slice(after.indexOf(`data-infohash="${row.infoHash}"`))
      expect(card.slice(0, card.indexOf('</li>'))).toContain(
        `ws=${encodeURIComponent('https://mirror.example/')}`.replaceAll('&', '&amp;'),
      )
    } finally {
      await database.close()
    }
  })

  it('serves each .torrent as published, and nothing else', async () => {
    const { database, rows, torrentFile } = await published()
    try {
      const catalog = new PublicCatalog(database, 0)
      const app = webRoutes({ database, catalog, publicUrl })
      for (const row of rows) {
        const res = await app.request(`/torrents/${row.releaseDir}/${row.name}.torrent`)
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('application/x-bittorrent')
        const body = Buffer.from(await res.arrayBuffer())
        expect(body.equals(readFileSync(torrentFile(row.releaseDir, row.name)))).toBe(true)
      }
      const row = rows[0]!
      for (const bad of [
        `/torrents/${row.releaseDir}/${row.name}`,
        `/torrents/${row.releaseDir}/nope.torrent`,
        `/torrents/${row.name}.torrent`,
        `/torrents/${row.releaseDir}/%2e%2e/${row.name}.torrent`,
        `/torrents/${row.releaseDir.replaceAll('/', '%2F')}/${row.name}.torrent`,
        `/torrents/${row.releaseDir}//${row.name}.torrent`,
        `/torrents/${row.releaseDir}/${row.name}.torrent/`,
      ]) {
        expect((await app.request(bad)).status, bad).toBe(404)
      }
      // A superseded torrent is still tracked for a while, but no longer handed out.
      const tracked = (await loadTracked(database.db)).find((t) => t.id === row.id)
      await retire(database.db, tracked!)
      catalog.events.superseded()
      await catalog.reload()
      expect((await app.request(`/torrents/${row.releaseDir}/${row.name}.torrent`)).status).toBe(
        404,
      )
    } finally {
      await database.close()
    }
  })

  it('reloads once for a burst of feed events, at once for a page asked for during one', async () => {
    const { database, rows } = await published()
    const gapMs = 400
    const catalog = new PublicCatalog(database, 0, gapMs)
    try {
      const app = webRoutes({ database, catalog, publicUrl })
      await catalog.ready
      const served = async (row: (typeof rows)[number]) =>
        (await app.request(`/torrents/${row.releaseDir}/${row.name}.torrent`)).status === 200
      const retireRow = async (row: (typeof rows)[number]) =>
        retire(
          database.db,
          (await loadTracked(database.db)).find((t) => t.id === row.id)!,
        )
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
      const [first, second] = rows
      expect(await served(first!)).toBe(true)
      const reloads = vi.spyOn(catalog, 'reload')

      // After a quiet spell an event reloads at once.
      await pause(gapMs)
      await retireRow(first!)
      catalog.events.superseded()
      expect(reloads).toHaveBeenCalledTimes(1)
      await reloads.mock.results[0]!.value
      expect(await served(first!)).toBe(false)

      // A burst right after it (a first start publishing release after release): one reload, once
      // the gap has passed.
      for (let i = 0; i < 100; i++) catalog.events.published()
      expect(reloads).toHaveBeenCalledTimes(1)
      await pause(gapMs + 100)
      expect(reloads).toHaveBeenCalledTimes(2)

      // A page asked for during a burst does not wait for the gap: it starts the reload and shows
      // what the burst told, and the reload the burst had deferred is not made again.
      await retireRow(second!)
      for (let i = 0; i < 100; i++) catalog.events.published()
      expect(reloads).toHaveBeenCalledTimes(2)
      expect(await served(second!)).toBe(false)
      expect(reloads).toHaveBeenCalledTimes(3)
      await pause(gapMs + 100)
      expect(reloads).toHaveBeenCalledTimes(3)
    } finally {
      catalog.close()
      await database.close()
    }
  })

  it('publishes an RSS 2.0 feed, newest first, with .torrent enclosures', async () => {
    const { database, rows, torrentFile } = await published()
    try {
      // Published one after the other by the reconcile: the later one is the newer.
      const [older, newer] = [...rows].sort(
        (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id,
      )
      const res = await webRoutes({ database, publicUrl }).request('/feed.xml')
      expect(res.headers.get('content-type')).toMatch(/^application\/rss\+xml/)
      const doc = parseXml(await res.text())
      expect(doc.rss['@version']).toBe('2.0')
      const items = doc.rss.channel.item
      expect(items.map((i: { title: string }) => i.title)).toEqual([newer!.name, older!.name])
      for (const [item, row] of [
        [items[0], newer!],
        [items[1], older!],
      ] as const) {
        expect(item.guid['#text']).toBe(row.infoHash)
        expect(item.guid['@isPermaLink']).toBe('false')
        const file = torrentFile(row.releaseDir, row.name)
        expect(item.enclosure).toEqual({
          '@url': `${publicUrl}/torrents/${row.releaseDir}/${row.name}.torrent`,
          '@length': String(statSync(file).size),
          '@type': 'application/x-bittorrent',
        })
        // RFC 822 dates have whole seconds.
        expect(new Date(item.pubDate).getTime()).toBe(
          Math.floor(row.createdAt.getTime() / 1000) * 1000,
        )
      }
    } finally {
      await database.close()
    }
  })

  it('describes each release as a Metalink 4 document with sizes, SHA-256 and web seeds', async () => {
    const { tree, database, rows } = await published()
    try {
      const app = webRoutes({ database, publicUrl })
      const release = tree.releases[0]!
      const row = rows.find((r) => r.name === release.name)!
      const res = await app.request(`/metalink/${row.releaseDir}/${row.name}.meta4`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^application\/metalink4\+xml/)
      const doc = parseXml(await res.text())
      expect(doc.metalink['@xmlns']).toBe('urn:ietf:params:xml:ns:metalink')
      const files = doc.metalink.file
      const onDisk = [release.artifact, ...release.companions]
      expect(files.map((f: { '@name': string }) => f['@name']).sort()).toEqual(
        onDisk.map((p) => `${release.name}/${path.posix.basename(p)}`).sort(),
      )
      for (const file of files) {
        const rel = `${release.releaseDir}/${path.posix.basename(file['@name'])}`
        const bytes = readFileSync(path.join(tree.root, rel))
        expect(Number(file.size)).toBe(bytes.length)
        expect(file.hash['@type']).toBe('sha-256')
        expect(file.hash['#text']).toBe(createHash('sha256').update(bytes).digest('hex'))
        expect(file.url.map((u: { '#text': string }) => u['#text'])).toEqual([
          `${publicUrl}/webseed/${release.releaseDir}/${file['@name']}`,
        ])
        expect(file.metaurl['@mediatype']).toBe('torrent')
        expect(file.metaurl['#text']).toBe(
          `${publicUrl}/torrents/${row.releaseDir}/${row.name}.torrent`,
        )
      }
      // The artifact's digest is the one the release itself published.
      const artifact = files.find((f: { '@name': string }) =>
        f['@name'].endsWith(path.posix.basename(release.artifact)),
      )
      expect(artifact.hash['#text']).toBe(release.digests.sha256)
      expect((await app.request(`/metalink/${row.releaseDir}/nope.meta4`)).status).toBe(404)
      expect(parseTorrent(row.metainfo).urlList).toHaveLength(1)
    } finally {
      await database.close()
    }
  })
})
