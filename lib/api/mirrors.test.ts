import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventLog } from '../catalog/index.ts'
import { parseTorrent } from '../metainfo/index.ts'
import { Publisher } from '../publish/index.ts'
import { startApi, type ApiServer } from '../../test/api-server.ts'
import { databaseKinds } from '../../test/databases.ts'
import {
  fixtureConfig,
  buildGentooTree,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { startNginx, type Nginx } from '../../test/nginx.ts'
import { tool } from '../../test/tools.ts'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'

const token = 'mirrors-test-token-0123456789'
const nginxTool = tool('nginx', ['-v'])

describe.each(databaseKinds)('mirrors API on %s', (_name, kind) => {
  let database: Awaited<ReturnType<typeof kind.open>>
  let api: ApiServer
  let tree: FixtureTree
  let nginx: Nginx | undefined
  let torrentFile: string

  beforeAll(async () => {
    database = await kind.open()
    tree = await buildGentooTree()
    const config = fixtureConfig(tree.root, { mirrors: { timeoutSeconds: 2 } })
    const publisher = new Publisher({ config, database })
    await publisher.reconcile()
    const r = tree.releases[0]
    torrentFile = publisher.outputs.torrentFile(r.releaseDir, r.name)
    if (nginxTool.found) nginx = await startNginx(tree.root)
    api = await startApi({ token, database, config })
  }, 60_000)

  afterAll(async () => {
    await api?.close()
    await nginx?.stop()
    await database?.close()
    await tree?.remove()
  })

  describe('happy path', () => {
    it('adds, lists, changes and removes a mirror', async () => {
      const added = await api.call('POST', '/mirrors', {
        body: { name: 'ftp.example', baseUrl: 'https://ftp.example/gentoo/' },
      })
      expect(added.status).toBe(201)
      expect(added.json.mirror).toMatchObject({
        name: 'ftp.example',
        baseUrl: 'https://ftp.example/gentoo',
        enabled: true,
        status: 'unknown',
        lastCheckAt: null,
      })
      const list = await api.call('GET', '/mirrors')
      expect(list.json.mirrors.map((m: any) => m.name)).toEqual(['ftp.example'])
      const off = await api.call('PATCH', '/mirrors/ftp.example', { body: { enabled: false } })
      expect(off.status).toBe(200)
      expect(off.json.mirror.enabled).toBe(false)
      const gone = await api.call('DELETE', '/mirrors/ftp.example')
      expect(gone).toMatchObject({ status: 200, json: { removed: 'ftp.example' } })
      expect((await api.call('GET', '/mirrors')).json.mirrors).toEqual([])
    })

    it.skipIf(!nginxTool.found)(
      `checks a real mirror, which then appears in url-list; removing it drops it ${nginxTool.reason}`,
      async () => {
        await api.call('POST', '/mirrors', { body: { name: 'nginx', baseUrl: nginx!.url } })
        const before = parseTorrent(await readFile(torrentFile))
        const check = await api.call('POST', '/mirrors/nginx/check')
        expect(check.status).toBe(200)
        expect(check.json.check).toMatchObject({ status: 'up', before: 'unknown', problem: null })
        expect(check.json.mirror).toMatchObject({ status: 'up', lastError: null })
        expect(typeof check.json.check.latencyMs).toBe('number')
        const listed = parseTorrent(await readFile(torrentFile))
        const dir = tree.releases[0].releaseDir
        expect(listed.urlList).toContain(`${nginx!.url}/torrent-symlinks/${dir}/`)
        expect(listed.infoHash!.equals(before.infoHash!)).toBe(true)
        const up = await eventLog(database.db, { kind: 'mirror_up' })
        expect(up.map((e) => e.subject)).toEqual(['nginx'])

        expect((await api.call('DELETE', '/mirrors/nginx')).status).toBe(200)
        const dropped = parseTorrent(await readFile(torrentFile))
        expect(dropped.urlList).toEqual([`http://seed.example:6969/webseed/${dir}/`])
        expect(dropped.infoHash!.equals(before.infoHash!)).toBe(true)
        expect(path.basename(torrentFile)).toBe(`${tree.releases[0].name}.torrent`)
      },
    )

    it('a mirror that fails its check is recorded down, with why', async () => {
      const closed = http.createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
      const port = (closed.address() as AddressInfo).port
      await new Promise((resolve) => closed.close(resolve))
      await api.call('POST', '/mirrors', {
        body: { name: 'dead', baseUrl: `http://127.0.0.1:${port}` },
      })
      const check = await api.call('POST', '/mirrors/dead/check')
      expect(check.status).toBe(200)
      expect(check.json.check).toMatchObject({ status: 'down', problem: 'unreachable' })
      expect(check.json.mirror.lastError).toMatch(/ECONNREFUSED/)
      await api.call('DELETE', '/mirrors/dead')
    })
  })

  describe('errors', () => {
    const bad: Array<[string, string, string, unknown, RegExp]> = [
      [
        'a name with a slash',
        'POST',
        '/mirrors',
        { name: 'a/b', baseUrl: 'http://x.example' },
        /body\.name/,
      ],
      [
        'a URL that is not http',
        'POST',
        '/mirrors',
        { name: 'a', baseUrl: 'ftp://x.example' },
        /body\.baseUrl/,
      ],
      [
        'a URL with a query',
        'POST',
        '/mirrors',
        { name: 'a', baseUrl: 'http://x.example/?q=1' },
        /body\.baseUrl/,
      ],
      [
        'an unknown key',
        'POST',
        '/mirrors',
        { name: 'a', baseUrl: 'http://x.example', x: 1 },
        /Unrecognized key/,
      ],
      ['a missing URL', 'POST', '/mirrors', { name: 'a' }, /body\.baseUrl/],
      ['a change of nothing', 'PATCH', '/mirrors/a', {}, /nothing to change/],
      ['enabled as a string', 'PATCH', '/mirrors/a', { enabled: 'yes' }, /body\.enabled/],
    ]
    for (const [what, method, route, body, message] of bad) {
      it(`400 for ${what}`, async () => {
        const r = await api.call(method, route, { body })
        expect(r.status).toBe(400)
        expect(r.json.error.code).toBe('bad-request')
        expect(r.json.error.message).toMatch(message)
      })
    }

    it('400 for a body that is not JSON', async () => {
      const r = await api.call('POST', '/mirrors', { raw: '{"name":' })
      expect(r).toMatchObject({ status: 400, json: { error: { code: 'bad-request' } } })
    })

    it('404 for a mirror that does not exist, 409 for a name taken', async () => {
      for (const [method, route] of [
        ['PATCH', '/mirrors/nope'],
        ['DELETE', '/mirrors/nope'],
        ['POST', '/mirrors/nope/check'],
      ]) {
        const r = await api.call(method, route, {
          body: method === 'PATCH' ? { enabled: true } : undefined,
        })
        expect(r.status, `${method} ${route}`).toBe(404)
        expect(r.json.error).toEqual({ code: 'not-found', message: 'no mirror named "nope"' })
      }
      await api.call('POST', '/mirrors', { body: { name: 'twice', baseUrl: 'http://a.example' } })
      const again = await api.call('POST', '/mirrors', {
        body: { name: 'twice', baseUrl: 'http://b.example' },
      })
      expect(again).toMatchObject({ status: 409, json: { error: { code: 'conflict' } } })
      await api.call('DELETE', '/mirrors/twice')
    })
  })

  describe('security', () => {
    it('without the right token: 401, the same answer whether the mirror exists or the input is bad', async () => {
      await api.call('POST', '/mirrors', { body: { name: 'exists', baseUrl: 'http://a.example' } })
      const answers = new Set<string>()
      for (const t of [null, 'wrong-token-wrong-token', `${token}x`, '']) {
        for (const [method, route, body] of [
          ['GET', '/mirrors'],
          ['POST', '/mirrors', { name: 'new', baseUrl: 'http://n.example' }],
          ['POST', '/mirrors', { name: '../../etc' }],
          ['PATCH', '/mirrors/exists', { enabled: false }],
          ['PATCH', '/mirrors/nope', { enabled: false }],
          ['DELETE', '/mirrors/exists'],
          ['DELETE', '/mirrors/nope'],
          ['POST', '/mirrors/exists/check'],
        ] as Array<[string, string, unknown?]>) {
          const r = await api.call(method, route, { body, token: t })
          expect(r.status, `${method} ${route}`).toBe(401)
          expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/)
          answers.add(r.text)
        }
      }
      expect([...answers]).toEqual([
        JSON.stringify({
          error: { code: 'unauthorized', message: 'a valid bearer token is required' },
        }),
      ])
      // Nothing was changed by any of them.
      const list = await api.call('GET', '/mirrors')
      expect(list.json.mirrors.map((m: any) => [m.name, m.enabled])).toEqual([['exists', true]])
      await api.call('DELETE', '/mirrors/exists')
    })

    it('never answers with a stack trace', async () => {
      for (const raw of ['{', '[]', '"x"', 'null', '{"name":{"$gt":""}}', '\u0000']) {
        const r = await api.call('POST', '/mirrors', { raw })
        expect(r.status).toBe(400)
        expect(r.text).not.toMatch(/\bat .*\.ts:\d+|node_modules|Error:/)
      }
    })
  })
})
