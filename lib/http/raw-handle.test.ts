import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { peerAddress, readChunk, send, takeConnections, type RawConnection } from './raw-handle.ts'

const cleanup: Array<() => void> = []
afterEach(() => {
  for (const undo of cleanup.splice(0)) undo()
})

async function listening() {
  const sockets: Socket[] = []
  const server = createServer((socket) => sockets.push(socket))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanup.push(() => server.close())
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const client = () => {
    const socket = connect(port, '127.0.0.1')
    cleanup.push(() => socket.destroy())
    return socket
  }
  return { server, sockets, client }
}

describe('raw handles: connections before node:net builds a socket', () => {
  // Without these internals every announce pays ~45 µs more for a net.Socket (bench/tracker.ts):
  // a Node upgrade that drops them must fail here, not only show in a benchmark.
  it('takes each connection on its bare handle, reads and answers it there, no socket built', async () => {
    const { server, sockets, client } = await listening()
    const taken: RawConnection[] = []
    const handOver = takeConnections(server, (handle) => {
      taken.push(handle)
      handle.onread = function (buffer) {
        const chunk = readChunk(buffer)
        if (chunk === null) return
        if (chunk === 'end') return this.close()
        send(this, Buffer.from(`${chunk} from ${peerAddress(this)}`), (h) => h.close())
      }
      handle.readStart()
    })
    expect(handOver).toBeTypeOf('function')
    const socket = client()
    socket.end('hello')
    const reply = await read(socket)
    expect(reply).toBe('hello from 127.0.0.1')
    expect(taken).toHaveLength(1)
    expect(sockets).toHaveLength(0)
  })

  it('hands a connection to node:net, which goes on reading it as if just accepted', async () => {
    const { server, sockets, client } = await listening()
    const handOver = takeConnections(server, (handle) => {
      handle.onread = function (buffer) {
        const chunk = readChunk(buffer)
        if (chunk === null || chunk === 'end') return
        handOver?.(this)
        // The bytes read on the handle are the caller's to pass on; node:net reads the rest.
        sockets[0].unshift(chunk)
      }
      handle.readStart()
    })
    server.removeAllListeners('connection')
    server.on('connection', (socket: Socket) => {
      sockets.push(socket)
      let got = ''
      socket.on('data', (d) => {
        got += d
        if (got === 'first second') socket.end(`node:net read "${got}"`)
      })
    })
    const socket = client()
    socket.write('first ')
    const reply = read(socket)
    await new Promise((resolve) => setTimeout(resolve, 50))
    socket.write('second')
    expect(await reply).toBe('node:net read "first second"')
    expect(sockets).toHaveLength(1)
  })
})

async function read(socket: Socket): Promise<string> {
  let text = ''
  for await (const chunk of socket) text += chunk
  return text
}
