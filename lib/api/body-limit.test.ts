import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type ApiServer } from '../../test/api-server.ts'
import { databaseKinds } from '../../test/databases.ts'
import { MAX_BODY_BYTES } from './index.ts'

const token = 'body-limit-test-token-0123456789'
const [, pglite] = databaseKinds[0]!

describe('admin API request bodies', () => {
  let database: Awaited<ReturnType<typeof pglite.open>>
  let api: ApiServer
  beforeAll(async () => {
    database = await pglite.open()
    api = await startApi({ token, database })
  })
  afterAll(async () => {
    await api?.close()
    await database?.close()
  })

  it('refuses a body over the limit with 413, before any handler reads it', async () => {
    const huge = JSON.stringify({
      name: 'x',
      baseUrl: `https://m.example/${'a'.repeat(MAX_BODY_BYTES)}`,
    })
    const res = await api.call('POST', '/mirrors', { raw: huge })
    expect(res.status).toBe(413)
    expect(res.json.error.code).toBe('too-large')
    // A normal body still gets to the handler (which judges it on its merits).
    const ok = await api.call('POST', '/mirrors', { body: { name: 'm', baseUrl: 'not a url' } })
    expect(ok.status).toBe(400)
  })
})
