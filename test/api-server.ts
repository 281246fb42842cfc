import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { apiRoutes, type ApiOptions } from '../lib/api/index.ts'

export interface ApiServer {
  /** `http://127.0.0.1:<port>/api` */
  url: string
  /** `fetch` of `<url><route>`, with the token unless `token: null` (or another) is given. */
  call(
    method: string,
    route: string,
    options?: { body?: unknown; raw?: string; token?: string | null },
  ): Promise<{ status: number; json: any; text: string; headers: Headers }>
  close(): Promise<void>
}

/**
 * The admin API in a real `node:http` server on a loopback ephemeral port, mounted at `/api` as
 * `serve` mounts it, so tests drive it over HTTP the way an admin's script does.
 */
export async function startApi(options: ApiOptions): Promise<ApiServer> {
  const app = new Hono().route('/api', apiRoutes(options))
  const server = http.createServer(getRequestListener(app.fetch))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`
  return {
    url,
    async call(method, route, { body, raw, token = options.token } = {}) {
      const headers: Record<string, string> = {}
      if (token !== null) headers.authorization = `Bearer ${token}`
      if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json'
      const response = await fetch(`${url}${route}`, {
        method,
        headers,
        body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
      })
      const text = await response.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: response.status, json, text, headers: response.headers }
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
