import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Publisher } from '../publish/index.ts'
import { startApi, type ApiServer } from '../../test/api-server.ts'
import { databaseKinds } from '../../test/databases.ts'
import {
  fixtureConfig,
  buildGentooTree,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { apiEndpoints, apiRoutes, Jobs, type ApiOptions } from './index.ts'

const token = 'openapi-test-token-0123456789'
const [, pglite] = databaseKinds[0]

/**
 * The document is written from the endpoint definitions; these tests hold it to the running
 * API: every route hono routes is documented, every documented operation answers one of its
 * documented statuses, and what it answers parses with the documented schema.
 */
describe('openapi.json', () => {
  let database: Awaited<ReturnType<typeof pglite.open>>
  let tree: FixtureTree
  let api: ApiServer
  let options: ApiOptions
  let document: any
  let infoHash: string
  let closedPort: number

  beforeAll(async () => {
    database = await pglite.open()
    tree = await buildGentooTree()
    const config = fixtureConfig(tree.root, { mirrors: { timeoutSeconds: 2 } })
    const publisher = new Publisher({ config, database })
    ;[{ infoHash }] = (await publisher.reconcile()).published
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    closedPort = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    options = {
      token,
      database,
      config,
      jobs: new Jobs(),
      rescan: (path) => publisher.reconcile({ under: path }),
    }
    api = await startApi(options)
    document = (await api.call('GET', '/openapi.json')).json
  }, 60_000)

  afterAll(async () => {
    await api?.close()
    await options?.jobs?.idle()
    await database?.close()
    await tree?.remove()
  })

  it('is OpenAPI 3.1 with bearer security, and needs the token like the rest of /api', async () => {
    expect(document.openapi).toBe('3.1.0')
    expect(document.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' })
    expect(document.security).toEqual([{ bearer: [] }])
    const anonymous = await api.call('GET', '/openapi.json', { token: null })
    expect(anonymous.status).toBe(401)
  })

  it('documents every route hono serves, and nothing else', () => {
    const served = apiRoutes(options)
      .routes.filter((r) => r.path !== '/*' && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`)
      .sort()
    const documented = Object.entries(document.paths)
      .flatMap(([p, ops]) =>
        Object.keys(ops as object).map(
          (m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`,
        ),
      )
      .sort()
    expect(documented).toEqual([...new Set(served)])
    for (const m of [
      'GET /torrents',
      'GET /torrents/:infohash',
      'POST /mirrors',
      'PATCH /mirrors/:name',
      'DELETE /mirrors/:name',
      'POST /mirrors/:name/check',
      'GET /stats',
      'POST /rescan',
      'GET /jobs/:id',
      'GET /openapi.json',
    ]) {
      expect(documented).toContain(m)
    }
  })

  it('every documented operation answers a documented status with a body of the documented shape', async () => {
    await api.call('POST', '/mirrors', {
      body: { name: 'm1', baseUrl: `http://127.0.0.1:${closedPort}` },
    })
    const job = (await api.call('POST', '/rescan', { body: {} })).json.job.id
    const samples: Record<string, string> = { infohash: infoHash, name: 'm1', id: job }
    const bodies: Record<string, unknown> = {
      'POST /mirrors': { name: 'm2', baseUrl: 'https://m2.example/tree' },
      'PATCH /mirrors/{name}': { enabled: false },
      'POST /rescan': { path: tree.releases[0].releaseDir },
    }
    const endpoints = apiEndpoints(options)
    // Deleting goes last, so the operations before it find the mirror.
    const operations = Object.entries(document.paths)
      .flatMap(([p, ops]) =>
        Object.entries(ops as Record<string, any>).map(([m, op]) => ({ p, m, op })),
      )
      .sort((a, b) => Number(a.m === 'delete') - Number(b.m === 'delete'))
    expect(operations.length).toBe(endpoints.length)
    for (const { p, m, op } of operations) {
      const key = `${m.toUpperCase()} ${p}`
      for (const param of op.parameters.filter((x: any) => x.in === 'path')) {
        expect(p).toContain(`{${param.name}}`)
      }
      const route = p.replace(/\{(\w+)\}/g, (_: string, name: string) => samples[name])
      const r = await api.call(m.toUpperCase(), route, { body: bodies[key] })
      expect(Object.keys(op.responses), `${key} answered ${r.status}: ${r.text}`).toContain(
        String(r.status),
      )
      expect(op.responses['401']).toBeDefined()
      const definition = endpoints.find((e) => e.method === m && e.path === p)!
      const schema = definition.responses[r.status as 200]?.schema
      if (r.status < 300) {
        expect(schema, key).toBeDefined()
        const parsed = schema!.safeParse(r.json)
        expect(parsed.success, `${key}: ${parsed.error?.message}`).toBe(true)
      }
    }
  })
})
