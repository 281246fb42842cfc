import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { mirrors } from '../db/schema.ts'
import { parseTorrent } from '../metainfo/index.ts'
import { mirrorCheckHooks, Publisher } from '../publish/index.ts'
import { databaseKinds } from '../../test/databases.ts'
import {
  fixtureConfig,
  buildGentooTree,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { addMirror, startMirrorChecks } from './index.ts'

/** A plain mirror: the tree's files with single byte ranges, symlinks followed. */
function mirrorOf(root: string): http.Server {
  return http.createServer((req, res) => {
    const file = path.join(root, ...(req.url ?? '/').split('/').map(decodeURIComponent))
    void readFile(file).then(
      (data) => {
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
        if (req.method === 'HEAD' || !m) {
          res.writeHead(200, { 'content-length': data.length })
          return void res.end(req.method === 'HEAD' ? undefined : data)
        }
        const [start, end] = [Number(m[1]), Number(m[2])]
        res.writeHead(206, {
          'content-length': end - start + 1,
          'content-range': `bytes ${start}-${end}/${data.length}`,
        })
        res.end(data.subarray(start, end + 1))
      },
      () => res.writeHead(404, { 'content-length': 0 }).end(),
    )
  })
}

describe.each(databaseKinds)('mirror checks on a timer, on %s', (_name, kind) => {
  let tree: FixtureTree
  let server: http.Server
  let url: string

  beforeAll(async () => {
    tree = await buildGentooTree()
    server = mirrorOf(tree.root)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    await tree?.remove()
  })

  it('checks at start and again every checkSeconds, until closed', async () => {
    const database = await kind.open()
    try {
      const config = fixtureConfig(tree.root, { mirrors: { checkSeconds: 0.2, timeoutSeconds: 2 } })
      const publisher = new Publisher({ config, database })
      await publisher.reconcile()
      await addMirror(database.db, { name: 'local', baseUrl: url })
      const checks = startMirrorChecks({
        config,
        database,
        ...mirrorCheckHooks({ config, database }),
      })
      const checkedAt = async () =>
        (await database.db.select().from(mirrors))[0].lastCheckAt?.getTime() ?? 0
      const deadline = Date.now() + 10_000
      let first = 0
      while (!(first = await checkedAt()) && Date.now() < deadline) await sleep(50)
      expect(first).toBeGreaterThan(0)
      let second = first
      while ((second = await checkedAt()) === first && Date.now() < deadline) await sleep(50)
      expect(second).toBeGreaterThan(first)
      await checks.close()
      const closedAt = await checkedAt()
      await sleep(500)
      expect(await checkedAt()).toBe(closedAt)

      const [row] = await database.db.select().from(mirrors)
      expect(row).toMatchObject({ status: 'up', lastError: null })
      const r = tree.releases[0]
      const torrent = parseTorrent(
        await readFile(publisher.outputs.torrentFile(r.releaseDir, r.name)),
      )
      expect(torrent.urlList).toEqual([
        `http://seed.example:6969/webseed/${r.releaseDir}/`,
        `${url}/torrent-symlinks/${r.releaseDir}/`,
      ])
    } finally {
      await database.close()
    }
  }, 30_000)
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
