import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { Server as NetServer, Socket } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { Hono } from 'hono'
import { log } from '../log/index.ts'
import type { RawConnection } from './raw-handle.ts'
import { plainFront, type PlainPrefixRoute, type PlainRoute } from './plain-http.ts'

export type FastRoute = (req: IncomingMessage, res: ServerResponse) => void
export type { PlainAnswer, PlainPrefixRoute, PlainRoute } from './plain-http.ts'

/** The one HTTP port: a TCP listener in front of a node:http server. */
export interface HttpFront {
  /** the node:http server behind, for every request the plain path does not answer */
  http: Server
  listen(port: number, host: string): Promise<number>
  /** See {@link closeFront}. */
  close(graceMs?: number): Promise<void>
}

/**
 * The one HTTP port: tracker, web seed, pages and API. Paths in `plainRoutes` (announce,
 * scrape) and under `plainPrefixes` (`.torrent` files) are answered off the socket
 * (plain-http.ts), or from node:http once a connection was handed to it; paths in `fastRoutes` and `fastPrefixes` (the web seed) straight from node:http,
 * before hono builds a Request object for them. Everything else goes to hono. Routes may be
 * added while the port is open (roles start after it is bound).
 */
export function createHttpServer(
  app: Hono,
  fastRoutes: Map<string, FastRoute>,
  fastPrefixes: Map<string, FastRoute> = new Map(),
  plainRoutes: Map<string, PlainRoute> = new Map(),
  options: {
    maxConnections?: number
    /** ms a connection answered off the socket may sit idle; node:http's keep-alive timeout. */
    idleMs?: number
    /** Prefixes answered off the socket from prepared answers (`.torrent` files). */
    plainPrefixes?: Map<string, PlainPrefixRoute>
    /** ms a request under `plainPrefixes` waits, by remote address (see page-pace.ts). */
    pace?: (remote: string, forwardedFor: () => string | undefined) => number
  } = {},
): HttpFront {
  const honoListener: RequestListener = getRequestListener(app.fetch)
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const plain = plainRoutes.get(path)
    if (plain) {
      const body = plain(url, req.socket.remoteAddress ?? '', () => {
        const header = req.headers['x-forwarded-for']
        return Array.isArray(header) ? header.join(',') : header
      })
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
      res.end(body)
      return
    }
    const route = fastRoutes.get(path)
    if (route) return route(req, res)
    for (const [prefix, handler] of fastPrefixes)
      if (url.startsWith(prefix)) return handler(req, res)
    void honoListener(req, res)
  })
  // Web-seed clients keep connections open between range requests (docs/architecture.md, "What real clients do": "keep the
  // connection alive"); the default 5 s would close them while a client reads a 16 MiB piece.
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 70_000
  server.requestTimeout = 0
  const front = plainFront(
    server,
    plainRoutes,
    options.idleMs ?? server.keepAliveTimeout,
    options.plainPrefixes,
    options.pace,
  )
  capConnections(front.server, options.maxConnections ?? 10_000)
  return {
    http: server,
    listen: (port, host) => listen(front.server, port, host),
    close: (graceMs) => closeFront(front.server, front.plain, front.raw, server, graceMs),
  }
}

/**
 * Open connections at most (`httpMaxConnections`): past it, node closes each new connection as
 * it is accepted, before any socket object or parser exists for it, so a flood of idle
 * connections costs one accept and one close each and the connections already open keep being
 * served. Refusals are logged once a minute at most, with their count.
 */
function capConnections(listener: NetServer, max: number): void {
  listener.maxConnections = max
  let dropped = 0
  let timer: NodeJS.Timeout | undefined
  listener.on('drop', () => {
    dropped++
    timer ??= setTimeout(() => {
      log.warn('http connections refused: at httpMaxConnections', { max, refused: dropped })
      dropped = 0
      timer = undefined
    }, 60_000).unref()
  })
}

export function listen(server: Server | NetServer, port: number, host: string): Promise<number> {
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
 * after `graceMs` whatever is still open is cut. The listener waits for every connection it
 * accepted, those it handed to node:http included; plain connections are idle between requests.
 */
async function closeFront(
  listener: NetServer,
  plain: Map<Socket, number>,
  raw: Map<RawConnection, number>,
  server: Server,
  graceMs = 10_000,
): Promise<void> {
  const closed = new Promise<void>((resolve) => listener.close(() => resolve()))
  server.close()
  server.closeIdleConnections()
  for (const socket of plain.keys()) socket.end()
  // Bare handles are idle between requests (a reply is written before the next read is taken).
  for (const handle of raw.keys()) handle.close()
  raw.clear()
  const timer = setTimeout(() => {
    server.closeAllConnections()
    for (const socket of plain.keys()) socket.destroy()
  }, graceMs)
  await closed
  clearTimeout(timer)
}
