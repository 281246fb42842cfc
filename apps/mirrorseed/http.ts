import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http'
import { getRequestListener } from '@hono/node-server'
import type { Hono } from 'hono'

export type FastRoute = (req: IncomingMessage, res: ServerResponse) => void

/**
 * The one HTTP port: tracker, web seed, pages and API. Paths in `fastRoutes` (announce, scrape)
 * are answered straight from `node:http`, before hono builds a Request object for them: they are
 * the hottest requests the appliance gets (see bench/tracker.ts). Everything else goes to hono.
 */
export function createHttpServer(
  app: Hono,
  fastRoutes: Map<string, FastRoute>,
  fastPrefixes: Map<string, FastRoute> = new Map(),
): Server {
  const honoListener: RequestListener = getRequestListener(app.fetch)
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const route = fastRoutes.get(q === -1 ? url : url.slice(0, q))
    if (route) return route(req, res)
    for (const [prefix, handler] of fastPrefixes)
      if (url.startsWith(prefix)) return handler(req, res)
    void honoListener(req, res)
  })
  // Web-seed clients keep connections open between range requests (DESIGN: "keep the
  // connection alive"); the default 5 s would close them while a client reads a 16 MiB piece.
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 70_000
  server.requestTimeout = 0
  return server
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const address = server.address()
      resolve(typeof address === 'object' && address ? address.port : port)
    })
  })
}

/**
 * Stops accepting, lets requests in flight finish, then drops idle keep-alive connections;
 * after `graceMs` whatever is still open is cut.
 */
export async function closeGracefully(server: Server, graceMs = 10_000): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const timer = setTimeout(() => server.closeAllConnections(), graceMs)
  await closed
  clearTimeout(timer)
}
