import { afterEach, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { once } from 'node:events'
import { join } from 'node:path'
import { connect, type Socket } from 'node:net'
import { startServe, until, afterEachTest } from './cli.ts'

// Issue 14: concurrent HTTP connections were unbounded. `httpMaxConnections` caps them; past the
// cap a new connection is closed as it is accepted, and the ones already open are still served.

const { running, scratch: folder } = afterEachTest('mirrorseed-conns-')
const sockets: Socket[] = []
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy()
})

/** A raw connection and whether the server closed it: resolves 'open' after `ms` otherwise. */
async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  socket.on('error', () => {})
  await once(socket, 'connect')
  return socket
}

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** One HTTP/1.1 request on an open connection, kept alive; resolves with the status line. */
function ask(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    const onData = (d: Buffer) => {
      got += d.toString('latin1')
      if (got.includes('\r\n\r\n')) {
        socket.off('data', onData)
        resolve(got.slice(0, got.indexOf('\r\n')))
      }
    }
    socket.on('data', onData)
    socket.once('close', () => reject(new Error(`closed before an answer to ${path}`)))
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`)
  })
}

describe('serve: httpMaxConnections', () => {
  it('closes connections past the cap at once, keeps serving the open ones, and takes new ones once some close', async () => {
    const serve = await startServe(['--root', folder(), '--data-dir', folder()], {
      env: { DATABASE_URL: '', MIRRORSEED_HTTP_MAX_CONNECTIONS: '20' },
    })
    running.push(serve)
    const port = serve.httpPort
    // Twenty idle connections (a slow or hostile client holds them open, sending nothing).
    const held: Socket[] = []
    for (let i = 0; i < 20; i++) held.push(await open(port))
    // The server has accepted them all (an answer on the last proves the accept loop got there).
    expect(await ask(held[19], '/healthz')).toBe('HTTP/1.1 200 OK')

    const refused = await Promise.all(Array.from({ length: 10 }, () => open(port)))
    for (const s of refused) expect(await closedWithin(s, 5000)).toBe(true)

    // Those already open are served as before: a page, the tracker's plain path.
    expect(await ask(held[0], '/healthz')).toBe('HTTP/1.1 200 OK')
    expect(await ask(held[1], '/announce?info_hash=x')).toBe('HTTP/1.1 200 OK')

    // Five leave; five newcomers get in and are answered.
    for (const s of held.splice(0, 5)) s.destroy()
    const newcomers = await until('room for new connections', async () => {
      const s = await open(port)
      return (await closedWithin(s, 300)) ? undefined : s
    })
    expect(await ask(newcomers, '/healthz')).toBe('HTTP/1.1 200 OK')
    expect(serve.child.exitCode).toBeNull()
  }, 120_000)

  it('refuses a cap that is not a positive whole number, naming the key', async () => {
    await expect(
      startServe(['--root', folder(), '--data-dir', folder()], {
        env: { DATABASE_URL: '', MIRRORSEED_HTTP_MAX_CONNECTIONS: '0' },
      }),
    ).rejects.toThrow(/httpMaxConnections/)
  })
})
/** GET `path` from `localAddress` on a fresh connection; resolves with the status. */
function getFrom(port: number, path: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('serve: web.pagesPerSecond', () => {
  it('makes one address in a loop of page requests wait its turn, and nobody else', async () => {
    const dir = folder()
    const config = join(dir, 'mirrorseed.yaml')
    writeFileSync(config, 'web:\n  pagesPerSecond: 5\n')
    const serve = await startServe(
      ['--config', config, '--root', folder(), '--data-dir', folder()],
      {
        env: { DATABASE_URL: '' },
      },
    )
    running.push(serve)
    const port = serve.httpPort
    await until('the catalog', async () => (await getFrom(port, '/feed.xml', '127.0.0.3')) === 200)
    // 25 at once (five seconds' worth), then five a second: 35 in a row take two seconds more.
    // The feed goes through hono, a .torrent (404 here: nothing published) off the socket.
    const started = Date.now()
    const statuses: number[] = []
    for (let i = 0; i < 35; i++)
      statuses.push(
        await getFrom(port, i % 2 ? '/feed.xml' : '/torrents/none/x.torrent', '127.0.0.1'),
      )
    const looped = Date.now() - started
    expect(statuses.filter((s) => s === 200)).toHaveLength(17)
    expect(statuses.filter((s) => s === 404)).toHaveLength(18)
    expect(looped).toBeGreaterThan(1500)
    // Another address is not held up: asked at the same moment, it is answered first (the
    // looping one waits 200 ms for its next token). Compared, not timed, for a busy machine.
    const order: string[] = []
    await Promise.all(
      ['127.0.0.1', '127.0.0.2'].map((from) =>
        getFrom(port, '/feed.xml', from).then(() => order.push(from)),
      ),
    )
    expect(order).toEqual(['127.0.0.2', '127.0.0.1'])
    // The tracker is never paced: 30 announces from the looping address take far less than the
    // six seconds 30 pages would.
    const announce = Date.now()
    for (let i = 0; i < 30; i++) await getFrom(port, '/announce?info_hash=x', '127.0.0.1')
    expect(Date.now() - announce).toBeLessThan(4000)
  }, 120_000)
})
