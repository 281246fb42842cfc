import { Hono } from 'hono'
import type { DatabaseHandle } from '../db/index.ts'

/**
 * Readiness: the database answers, and every step the roles declared (migrations applied, the
 * first scan done, …) has happened. Liveness is only "the process answers".
 */
export class Readiness {
  private readonly pending = new Set<string>()

  constructor(private readonly database: DatabaseHandle) {}

  /** A step that must happen before the appliance is ready. */
  require(step: string): void {
    this.pending.add(step)
  }

  done(step: string): void {
    this.pending.delete(step)
  }

  async check(): Promise<{ ready: boolean; waitingFor: string[]; database: string }> {
    let database = 'ok'
    try {
      await this.database.ping()
    } catch (err) {
      database = `unreachable: ${(err as Error).message}`
    }
    const waitingFor = [...this.pending]
    return { ready: database === 'ok' && waitingFor.length === 0, waitingFor, database }
  }
}

export function healthRoutes(readiness: Readiness): Hono {
  return new Hono()
    .get('/healthz', (c) => c.json({ ok: true }))
    .get('/readyz', async (c) => {
      const state = await readiness.check()
      return c.json(state, state.ready ? 200 : 503)
    })
}
