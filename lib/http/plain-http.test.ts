import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createHttpServer,
  type HttpFront,
  type PlainPrefixRoute,
  type PlainRoute,
} from './server.ts'

let front: HttpFront
const fileBody = Buffer.from('d1:e')
let port: number
const sockets: Socket[] = []

beforeEach(async () => {
  const app = new Hono()
  app.get('/', (c) => c.text('index page'))
  app.post('/echo', async (c) => c.text(`echo ${await c.req.text()}`))
  const answer: PlainRoute = (target, remote, forwardedFor) =>
    Buffer.from(`${target} from ${remote} via ${forwardedFor() ?? '-'}`)
  const file: PlainPrefixRoute = (target) =>
    target.startsWith('/files/known')
      ? { head: Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n'), body: fileBody }
      : null
  app.get('/files/*', (c) => c.text('from node:http', 404))
  front = createHttpServer(app, new Map(), new Map(), new Map([['/announce', answer]]), {
    plainPrefixes: new Map([['/files/', file]]),
  })
  port = await front.listen(0, '127.0.0.1')
})

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await front.close(1000)
})

async function open(): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  await once(socket, 'connect')
  return socket
}

/** Reads from `socket` until `count` whole responses (by Content-Length) are in. */
function responses(socket: Socket, count: number): Promise<string[]> {
  let text = ''
  const out: string[] = []
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1')
      for (;;) {
        const end = text.indexOf('\r\n\r\n')
        if (end < 0) break
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1])
        if (text.length < end + 4 + length) break
        out.push(text.slice(0, end + 4 + length))
        text = text.slice(end + 4 + length)
      }
      if (out.length < count) return
      socket.off('data', onData)
      resolve(out)
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.once('end', () => resolve(out))
  })
}

const body = (response: string) => response.slice(response.indexOf('\r\n\r\n') + 4)

describe('the HTTP port: tracker paths off the socket, the rest through node:http', () => {
  it('answers pipelined announces on one kept-alive connection, in order', async () => {
    const socket = await open()
    socket.write('GET /announce?n=1 HTTP/1.1\r\nHost: t\r\n\r\nGET /announce?n=2 HTTP/1.1\r\n')
    socket.write('Host: t\r\n\r\n')
    const [first, second] = await responses(socket, 2)
    expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(first).toMatch(/Connection: keep-alive/)
    expect(body(first)).toBe('/announce?n=1 from 127.0.0.1 via -')
    expect(body(second)).toBe('/announce?n=2 from 127.0.0.1 via -')
  })

  it('closes after the answer when the client asks, and for HTTP/1.0', async () => {
    for (const head of [
      'GET /announce?x HTTP/1.1\r\nConnection: close\r\n\r\n',
      'GET /announce?x HTTP/1.0\r\n\r\n',
    ]) {
      const socket = await open()
      socket.write(head)
      const [response] = await responses(socket, 1)
      expect(response).toMatch(/Connection: close/)
      if (!socket.readableEnded) await once(socket, 'end')
    }
  })

  it('hands a connection to node:http at its first other request, bytes and body intact', async () => {
    const socket = await open()
    socket.write('GET /announce?a HTTP/1.1\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n')
    socket.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello')
    socket.write('GET /announce?b HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n')
    const all = await responses(socket, 4)
    expect(all.map(body)).toEqual([
      '/announce?a from 127.0.0.1 via 192.0.2.7',
      'echo hello',
      '/announce?b from 127.0.0.1 via -',
      'index page',
    ])
  })

  it('goes on from answers on the bare connection to node:http, one request at a time', async () => {
    // Each request waits for the answer before the next, so each arrives in a read of its own:
    // the announces are answered on the connection's bare handle, the page hands it over.
    const socket = await open()
    const ask = async (head: string) => {
      const answer = responses(socket, 1)
      socket.write(head)
      return body((await answer)[0])
    }
    expect(await ask('GET /announce?a HTTP/1.1\r\nHost: t\r\n\r\n')).toBe(
      '/announce?a from 127.0.0.1 via -',
    )
    expect(await ask('GET /announce?b HTTP/1.1\r\nHost: t\r\n\r\n')).toBe(
      '/announce?b from 127.0.0.1 via -',
    )
    expect(await ask('GET / HTTP/1.1\r\nHost: t\r\n\r\n')).toBe('index page')
    expect(await ask('GET /announce?c HTTP/1.1\r\nHost: t\r\n\r\n')).toBe(
      '/announce?c from 127.0.0.1 via -',
    )
    expect(await ask('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi')).toBe(
      'echo hi',
    )
  })

  it('answers prepared files under a prefix off the socket, with a Date, pipelined; others go to node:http', async () => {
    const socket = await open()
    socket.write(
      'GET /files/known?x HTTP/1.1\r\nHost: t\r\n\r\nGET /files/known HTTP/1.1\r\nHost: t\r\n\r\n' +
        'GET /files/unknown HTTP/1.1\r\nHost: t\r\n\r\nGET /files/known HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
    )
    const all = await responses(socket, 4)
    // After the first request node:http answers, the connection stays with it (as in serve,
    // where node:http answers the same file through the fast prefix route).
    expect(all.map(body)).toEqual(['d1:e', 'd1:e', 'from node:http', 'from node:http'])
    expect(all[0]).toMatch(
      /^HTTP\/1\.1 200 OK\r\nContent-Length: 4\r\nDate: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\r\nConnection: keep-alive\r\n\r\n/,
    )
    const res = await fetch(`http://127.0.0.1:${port}/files/known`)
    expect(Buffer.from(await res.arrayBuffer())).toEqual(fileBody)
    // The shared body is never written into: the next answer is the same bytes.
    expect(fileBody.toString()).toBe('d1:e')
  })

  it('is a plain HTTP server to a real client', async () => {
    const base = `http://127.0.0.1:${port}`
    for (let i = 0; i < 3; i++) {
      const announce = await fetch(`${base}/announce?i=${i}`)
      expect(announce.headers.get('content-type')).toBe('text/plain')
      expect(await announce.text()).toBe(`/announce?i=${i} from 127.0.0.1 via -`)
      expect(await (await fetch(`${base}/`)).text()).toBe('index page')
    }
  })

  it('cuts a connection that sends half a request and then nothing (slowloris)', async () => {
    const idle = createHttpServer(
      new Hono(),
      new Map(),
      new Map(),
      new Map([['/announce', () => Buffer.from('ok')]]),
      { idleMs: 300 },
    )
    const idlePort = await idle.listen(0, '127.0.0.1')
    try {
      const started = Date.now()
      const stalled = connect(idlePort, '127.0.0.1')
      sockets.push(stalled)
      // One that connects and never sends a byte is cut the same way.
      const silent = connect(idlePort, '127.0.0.1')
      sockets.push(silent)
      const silentCut = once(silent, 'close')
      // A kept-alive client that keeps asking stays open past the idle time.
      const busy = connect(idlePort, '127.0.0.1')
      sockets.push(busy)
      await Promise.all([once(stalled, 'connect'), once(busy, 'connect')])
      stalled.write('GET /announce?x HTTP/1.1\r\nHost: a\r\n')
      const cut = once(stalled, 'close')
      let busyClosed = false
      busy.on('close', () => (busyClosed = true))
      for (let i = 0; i < 8; i++) {
        busy.write('GET /announce?x HTTP/1.1\r\n\r\n')
        expect(await responses(busy, 1)).toHaveLength(1)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      await Promise.all([cut, silentCut])
      const after = Date.now() - started
      expect(after).toBeGreaterThanOrEqual(300)
      expect(after).toBeLessThan(3000)
      expect(busyClosed).toBe(false)
    } finally {
      await idle.close(100)
    }
  })

  it('survives hostile bytes on fresh and kept connections, and answers the next client', async () => {
    // Random bytes, random cuts of a valid request, and requests followed by junk: each lands on
    // a bare handle, a net.Socket or node:http depending on what was read; none may take the
    // port down or leave it unable to answer.
    const valid = Buffer.from('GET /announce?ok HTTP/1.1\r\nHost: t\r\n\r\n')
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    const junk = (n: number) =>
      Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)))
    for (let i = 0; i < 60; i++) {
      const socket = await open()
      socket.on('error', () => {})
      const kind = i % 4
      if (kind === 0) socket.write(junk(1 + Math.floor(random() * 200)))
      else if (kind === 1) socket.write(valid.subarray(0, Math.floor(random() * valid.length)))
      else if (kind === 2) socket.write(Buffer.concat([valid, junk(30)]))
      else {
        socket.write(valid)
        await responses(socket, 1)
        socket.write(junk(50))
      }
      if (random() < 0.5) socket.destroy()
    }
    const res = await fetch(`http://127.0.0.1:${port}/announce?after`)
    expect(await res.text()).toBe('/announce?after from 127.0.0.1 via -')
  })

  it('closes idle kept-alive connections when the server closes', async () => {
    const socket = await open()
    socket.write('GET /announce?x HTTP/1.1\r\n\r\n')
    await responses(socket, 1)
    const ended = once(socket, 'close')
    await front.close(5000)
    await ended
  })
})
