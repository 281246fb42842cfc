import type { Server as HttpServer } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import { parsePlainRequest } from './plain-request.ts'
import {
  peerAddress,
  readChunk,
  send,
  socketCount,
  takeConnections,
  type RawConnection,
} from './raw-handle.ts'

/**
 * An answer for one path, given the request target, the peer's address and a reader for
 * `X-Forwarded-For`: the body of a `200 text/plain` (a tracker announce or scrape).
 */
export type PlainRoute = (
  target: string,
  remote: string,
  forwardedFor: () => string | undefined,
) => Buffer

/**
 * A prepared answer for a path under a prefix (a `.torrent` file from memory): the status line
 * and headers, Content-Length included, without `Connection` and the blank line; and the body,
 * shared with every other answer of the same file (never copied per request).
 */
export interface PlainAnswer {
  head: Buffer
  body: Uint8Array
}

/**
 * Answers for paths under one prefix, given the request target; null hands the request (and
 * the connection) to node:http, which answers it as it would have anyway.
 */
export type PlainPrefixRoute = (target: string) => PlainAnswer | null

const STATUS = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: '
const KEEP = '\r\nConnection: keep-alive\r\n\r\n'
const CLOSE = '\r\nConnection: close\r\n\r\n'

let date = ''
let dateOf = 0
/** `Date: …` (RFC 9110 §6.6.1: an origin with a clock sends it on 2xx), built once a second. */
function dateLine(): string {
  const now = Date.now()
  if (now - dateOf >= 1000) {
    dateOf = now - (now % 1000)
    date = `Date: ${new Date(dateOf).toUTCString()}`
  }
  return date
}
const EMPTY = Buffer.alloc(0)
/** Replies queued to a client that does not read them, before its requests are left unread. */
const MAX_QUEUED = 1 << 20

function reply(body: Buffer, keepAlive: boolean): Buffer {
  const head = STATUS + body.length + (keepAlive ? KEEP : CLOSE)
  const out = Buffer.allocUnsafe(head.length + body.length)
  out.write(head, 0, 'latin1')
  body.copy(out, head.length)
  return out
}

/**
 * The TCP side of the HTTP port. Announces and scrapes are most of what a tracker gets, and on
 * a new connection per request node:http's parser, request and response objects cost more than
 * the announce itself (bench/tracker.ts, `node --cpu-prof` of `serve` under wrk). So requests for
 * `routes` are read off the socket here and answered in one write, as opentracker does, with
 * keep-alive and pipelining; the first request for anything else hands the connection, with the
 * bytes read so far, to the node:http server, which keeps it from then on.
 *
 * Before that, each connection starts on its bare handle (raw-handle.ts): a read that holds
 * exactly one request for a route is answered there, and the connection is closed or kept for the
 * next such read. Anything else (a partial or pipelined head, another path, a reply the kernel
 * could not take at once) builds the `net.Socket` below from the handle, with the bytes read.
 */
export function plainFront(
  http: HttpServer,
  routes: ReadonlyMap<string, PlainRoute>,
  idleMs: number,
  prefixes: ReadonlyMap<string, PlainPrefixRoute> = new Map(),
  /** For prefix routes (public pages): ms the request must wait, per remote address; 0 for now. */
  pace: (remote: string, forwardedFor: () => string | undefined) => number = () => 0,
): { server: Server; plain: Map<Socket, number>; raw: Map<RawConnection, number> } {
  // Each plain connection with the sweep tick of its last activity (a read, or its queued replies
  // drained). One shared timer cuts those idle for `idleMs` (slowloris), instead of a
  // socket.setTimeout per connection: that is a Timeout object, a bound function and a 'timeout'
  // listener at accept and a timer refresh per read, a few microseconds on each of the
  // connection-per-request announces that make most of a tracker's traffic (bench/tracker.ts).
  const plain = new Map<Socket, number>()
  // Connections still on their bare handle, with their tick likewise.
  const raw = new Map<RawConnection, number>()
  const step = Math.max(10, Math.min(1000, Math.floor(idleMs / 4)))
  const idleTicks = Math.ceil(idleMs / step)
  let tick = 0
  const sweep = setInterval(() => {
    tick++
    for (const [socket, seen] of plain) if (tick - seen > idleTicks) socket.destroy()
    for (const [handle, seen] of raw) if (tick - seen > idleTicks) closeRaw(handle)
  }, step).unref()
  function onClose(this: Socket): void {
    plain.delete(this)
  }
  function onDrain(this: Socket): void {
    if (plain.has(this)) plain.set(this, tick)
  }
  const prefixOf = (path: string): PlainPrefixRoute | undefined => {
    for (const [prefix, route] of prefixes) if (path.startsWith(prefix)) return route
    return undefined
  }
  const accepted = { has: (path: string) => routes.has(path) || prefixOf(path) !== undefined }

  const handOff = (socket: Socket, onData: (chunk: Buffer) => void, rest: Buffer) => {
    plain.delete(socket)
    socket.removeListener('data', onData)
    socket.removeListener('error', onError)
    socket.removeListener('close', onClose)
    // node:http's own listener would have set it at accept (its noDelay default).
    socket.setNoDelay(true)
    socket.pause()
    if (rest.length > 0) socket.unshift(rest)
    http.emit('connection', socket)
    // node:http reads from the socket's handle once resumed; the unshifted bytes come first.
    socket.resume()
  }

  const closeRaw = (handle: RawConnection): void => {
    raw.delete(handle)
    handle.close()
  }
  let toNodeNet: ((handle: RawConnection) => void) | undefined
  /** Bytes read on a handle before it was handed to node:net, for its new socket to go on from. */
  let carried: Buffer | undefined
  const handOver = (handle: RawConnection, chunk: Buffer): void => {
    raw.delete(handle)
    carried = chunk
    toNodeNet?.(handle)
    carried = undefined
  }
  // A kept handle's reply handed to the kernel whole is activity, like a read.
  const written = (handle: RawConnection): void => {
    if (raw.has(handle)) raw.set(handle, tick)
  }
  function onRawRead(this: RawConnection, buffer: ArrayBuffer): void {
    const chunk = readChunk(buffer)
    if (chunk === null) return
    if (chunk === 'end') return closeRaw(this)
    const request = parsePlainRequest(chunk, routes)
    if (request === null || request === 'partial' || request.length !== chunk.length)
      return handOver(this, chunk)
    const route = routes.get(request.path)
    // With its last reply still queued (the client does not read), node:net takes over: it waits
    // for the client to read (MAX_QUEUED) instead of queueing without end.
    if (route === undefined || this.writeQueueSize > 0) return handOver(this, chunk)
    const body = route(request.target, peerAddress(this), request.forwardedFor)
    if (request.keepAlive) {
      raw.set(this, tick)
      send(this, reply(body, true), written)
    } else {
      // Written whole into an empty socket buffer, then closed, as opentracker does.
      raw.delete(this)
      send(this, reply(body, false), (handle) => handle.close())
    }
  }
  const accept = (handle: RawConnection): void => {
    if (raw.size + socketCount(server) >= server.maxConnections) {
      // As node:net does at its cap (server.ts counts these for its log line).
      handle.close()
      server.emit('drop')
      return
    }
    raw.set(handle, tick)
    handle.onread = onRawRead
    if (handle.readStart() !== 0) closeRaw(handle)
  }

  const server = createServer((socket) => {
    plain.set(socket, tick)
    let pending: Buffer | undefined
    let noDelay = false
    const onData = (chunk: Buffer) => {
      plain.set(socket, tick)
      let data = pending === undefined ? chunk : Buffer.concat([pending, chunk])
      pending = undefined
      while (data.length > 0) {
        const request = parsePlainRequest(data, accepted)
        if (request === 'partial') {
          pending = data
          return
        }
        if (request === null) return handOff(socket, onData, data)
        const route = routes.get(request.path)
        let answer: PlainAnswer | null = null
        if (!route) {
          // The parser accepts only the routes' paths; anything else is node:http's to answer.
          answer = prefixOf(request.path)?.(request.target) ?? null
          if (!answer) return handOff(socket, onData, data)
          const wait = pace(socket.remoteAddress ?? '', request.forwardedFor)
          if (wait > 0) {
            // Nothing more is read from this client until its turn (page-pace.ts).
            pending = data
            socket.pause()
            setTimeout(() => {
              if (socket.destroyed) return
              socket.resume()
              onData(EMPTY)
            }, wait)
            return
          }
        }
        if (!request.keepAlive) {
          plain.delete(socket)
          socket.removeListener('data', onData)
        }
        if (request.keepAlive && !noDelay) {
          // Several replies may go out back to back (pipelining): no Nagle wait between them.
          // Set here, not at accept: a connection-per-request client never needs it.
          socket.setNoDelay(true)
          noDelay = true
        }
        if (route) {
          const body = route(request.target, socket.remoteAddress ?? '', request.forwardedFor)
          if (!request.keepAlive) {
            socket.write(reply(body, false))
            // Written whole at once (a few hundred bytes into an empty socket buffer) and nothing
            // else was sent: close now, as opentracker does, instead of a shutdown and a wait for
            // the client's FIN (~10 us of CPU per connection, bench/tracker.ts). With bytes
            // still unread a close would reset the connection, so those end politely.
            if (socket.writableLength === 0 && data.length === request.length) socket.destroy()
            else socket.end()
            return
          }
          socket.write(reply(body, true))
          if (socket.writableLength > 0) socket.once('drain', onDrain)
        } else if (answer) {
          // One writev for head, date and body: the body is the file's one shared buffer.
          socket.cork()
          socket.write(answer.head)
          socket.write(request.keepAlive ? dateLine() + KEEP : dateLine() + CLOSE, 'latin1')
          if (request.keepAlive) socket.write(answer.body)
          else socket.end(answer.body)
          socket.uncork()
          if (!request.keepAlive) return
          if (socket.writableLength > 0) socket.once('drain', onDrain)
        }
        data = data.subarray(request.length)
      }
      if (socket.writableLength > MAX_QUEUED) {
        socket.pause()
        socket.once('drain', () => socket.resume())
      }
    }
    socket.on('data', onData)
    socket.on('error', onError)
    socket.on('close', onClose)
    const first = carried
    carried = undefined
    if (first !== undefined) onData(first)
  })
  server.on('close', () => {
    clearInterval(sweep)
    for (const handle of raw.keys()) closeRaw(handle)
  })
  server.on('listening', () => {
    toNodeNet = takeConnections(server, accept)
    // node:http starts tracking its connections (closeIdleConnections, header timeouts) on
    // 'listening'; it never listens itself here.
    http.emit('listening')
  })
  return { server, plain, raw }
}

function onError(this: Socket): void {
  this.destroy()
}
