import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import { parseTorrent } from '../lib/metainfo/index.ts'
import { Publisher } from '../lib/publish/index.ts'
import { startApi, type ApiServer } from './api-server.ts'
import { runCli } from './cli.ts'
import { databaseKinds } from './databases.ts'
import { fixtureConfig, buildGentooTree, type FixtureTree } from './fixtures/mirror-tree.ts'
import { startNginx, type Nginx } from './nginx.ts'
import { tool } from './tools.ts'

/**
 * `mirrorseed mirrors …` run as an operator runs it, against the admin API of an appliance (here
 * the API over a real database and tree, with nginx as the mirror).
 */
const nginxTool = tool('nginx', ['-v'])
const token = 'mirrors-cli-token-0123456789'

describe.skipIf(!nginxTool.found)(`mirrorseed mirrors ${nginxTool.reason}`, () => {
  let database: Awaited<ReturnType<(typeof databaseKinds)[0][1]['open']>>
  let tree: FixtureTree
  let nginx: Nginx
  let api: ApiServer
  let torrentFile: string
  const cli = (...args: string[]) =>
    runCli(['mirrors', ...args, '--url', api.url.replace(/\/api$/, '')], {
      env: { MIRRORSEED_ADMIN_TOKEN: token },
    })

  beforeAll(async () => {
    database = await databaseKinds[0][1].open()
    tree = await buildGentooTree()
    const config = fixtureConfig(tree.root, { mirrors: { timeoutSeconds: 2 } })
    const publisher = new Publisher({ config, database })
    await publisher.reconcile()
    const r = tree.releases[0]
    torrentFile = publisher.outputs.torrentFile(r.releaseDir, r.name)
    nginx = await startNginx(tree.root)
    api = await startApi({ token, database, config })
  }, 60_000)

  afterAll(async () => {
    await api?.close()
    await nginx?.stop()
    await database?.close()
    await tree?.remove()
  })

  it('add --check, list, check, remove: the mirror comes and goes in url-list', async () => {
    const add = await cli('add', 'nginx', nginx.url, '--check')
    expect(add.code, add.stderr).toBe(0)
    expect(add.stdout).toMatch(/^nginx\s+up \d+ ms\s+http:\/\/127\.0\.0\.1:\d+/)
    expect(parseTorrent(await readFile(torrentFile)).urlList).toContain(
      `${nginx.url}/torrent-symlinks/${tree.releases[0].releaseDir}/`,
    )

    const list = await cli('list', '--json')
    expect(list.code).toBe(0)
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ name: 'nginx', status: 'up', enabled: true }),
    ])

    const check = await cli('check', '--json')
    expect(check.code).toBe(0)
    expect(JSON.parse(check.stdout)).toEqual([
      expect.objectContaining({ name: 'nginx', status: 'up', before: 'up' }),
    ])

    const remove = await cli('remove', 'nginx')
    expect(remove).toMatchObject({ code: 0, stdout: 'removed nginx\n' })
    expect(parseTorrent(await readFile(torrentFile)).urlList).toHaveLength(1)
    expect((await cli('list')).stdout).toBe('no mirrors\n')
  })

  it('a mirror that fails its check: exit 1, and why', async () => {
    const add = await cli('add', 'wrong', `${nginx.url}/not-the-tree`)
    expect(add.code).toBe(0)
    const check = await cli('check', 'wrong')
    expect(check.code).toBe(1)
    expect(check.stdout).toMatch(/^wrong\s+down .*answered 404/)
    await cli('remove', 'wrong')
  })

  it('bad input and unknown mirrors: one clear line, non-zero exit', async () => {
    const bad = await cli('add', 'a/b', 'http://x.example')
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^mirrorseed: body\.name: /),
    ])
    const missing = await cli('remove', 'nope')
    expect(missing.code).toBe(1)
    expect(missing.stderr.trim()).toBe('mirrorseed: no mirror named "nope"')
    const noToken = await runCli(['mirrors', 'list', '--url', api.url.replace(/\/api$/, '')], {
      env: { MIRRORSEED_ADMIN_TOKEN: 'not-the-token-at-all' },
    })
    expect(noToken.code).toBe(1)
    expect(noToken.stderr.trim()).toBe('mirrorseed: a valid bearer token is required')
  })
})
