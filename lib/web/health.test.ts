import { describe, expect, it } from 'vitest'
import { databaseKinds } from '../../test/databases.ts'
import { healthRoutes, Readiness } from './health.ts'

describe.each(databaseKinds)('health on %s', (_name, kind) => {
  it('is live at once, and ready once the database answers and every declared step is done', async () => {
    const database = await kind.open()
    try {
      const readiness = new Readiness(database)
      const app = healthRoutes(readiness)
      expect((await app.request('/healthz')).status).toBe(200)
      readiness.require('first scan')
      const waiting = await app.request('/readyz')
      expect(waiting.status).toBe(503)
      expect(await waiting.json()).toEqual({
        ready: false,
        waitingFor: ['first scan'],
        database: 'ok',
      })
      readiness.done('first scan')
      const ready = await app.request('/readyz')
      expect(ready.status).toBe(200)
      expect(await ready.json()).toEqual({ ready: true, waitingFor: [], database: 'ok' })
    } finally {
      await database.close()
    }
  })

  it('is not ready when the database does not answer, and says why', async () => {
    const database = await kind.open()
    const readiness = new Readiness(database)
    await database.close()
    const state = await readiness.check()
    expect(state.ready).toBe(false)
    expect(state.database).toMatch(/^unreachable: /)
  })
})
