import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { answerOnHandle } from './udp-handle.ts'

/** A server answering each packet with 6000 copies of its first byte; prints its port. */
const queuingServer = `
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { answerOnHandle } from ${JSON.stringify(new URL('./udp-handle.ts', import.meta.url).href)}
const server = createSocket('udp4')
server.bind(0, '127.0.0.1')
await once(server, 'listening')
answerOnHandle(server, (packet) => Buffer.alloc(6000, packet[0]))
console.log(server.address().port)
`

const sockets: Socket[] = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close()
})

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4')
  sockets.push(socket)
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  return socket
}

/** The next `count` datagrams `socket` receives. */
function received(socket: Socket, count: number): Promise<Buffer[]> {
  const packets: Buffer[] = []
  return new Promise((resolve) => {
    socket.on('message', (packet) => {
      packets.push(packet)
      if (packets.length === count) resolve(packets)
    })
  })
}

describe('UDP packets answered on the socket handle', () => {
  // Without these internals every UDP announce pays dgram's layers again (~1.8 µs of CPU,
  // bench/tracker.ts): a Node upgrade that drops them must fail here, not only in a benchmark.
  it('answers each packet to where it came from, and dgram never sees it', async () => {
    const server = await bound()
    let dgramSaw = 0
    server.on('message', () => dgramSaw++)
    const taken = answerOnHandle(server, (packet, address, port) =>
      packet.toString() === 'quiet' ? null : Buffer.from(`${packet} from ${address}:${port}`),
    )
    expect(taken).toBe(true)
    const client = await bound()
    const replies = received(client, 2)
    const port = server.address().port
    for (const word of ['one', 'quiet', 'two']) client.send(word, port, '127.0.0.1')
    const from = `127.0.0.1:${client.address().port}`
    expect((await replies).map(String)).toEqual([`one from ${from}`, `two from ${from}`])
    expect(dgramSaw).toBe(0)
  })

  it('keeps every reply intact when node has to queue it', async () => {
    // On loopback the kernel takes every datagram at once, so this runs the server in a node
    // started with --test-udp-no-try-send, where every send is queued as on a full socket buffer:
    // the request object must then stay node's and the reply stay alive until it is sent.
    const server = spawn(
      process.execPath,
      ['--test-udp-no-try-send', '--import', 'tsx', '--input-type=module', '-e', queuingServer],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    try {
      const [line] = (await once(server.stdout, 'data')) as [Buffer]
      const port = Number(line.toString())
      const client = await bound()
      const count = 20
      const replies = received(client, count)
      for (let i = 0; i < count; i++) client.send(Buffer.from([i]), port, '127.0.0.1')
      const bytes = (await replies).map((r) => [r.length, new Set(r).size, r[0]])
      expect(bytes.sort((a, b) => a[2] - b[2])).toEqual(
        Array.from({ length: count }, (_, i) => [6000, 1, i]),
      )
    } finally {
      server.kill()
    }
  })
})
