import { describe, it, expect, afterAll } from 'vitest'
import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import bencode from 'bencode'
import { DhtNode } from './node.ts'
import { prng } from '../../test/prng.ts'

const id = Buffer.alloc(20, 3)
const hash = Buffer.alloc(20, 9)
const valid = [
  { t: 'aa', y: 'q', q: 'ping', a: { id } },
  { t: 'ab', y: 'q', q: 'find_node', a: { id, target: hash } },
  { t: 'ac', y: 'q', q: 'get_peers', a: { id, info_hash: hash } },
  { t: 'ad', y: 'q', q: 'announce_peer', a: { id, info_hash: hash, port: 6881, token: 'xx' } },
  { t: 'ae', y: 'q', q: 'get', a: { id, target: hash } },
  { t: 'af', y: 'r', r: { id, nodes: Buffer.alloc(26) } },
  { t: 'ag', y: 'e', e: [201, 'error'] },
].map((m) => Buffer.from(bencode.encode(m)))

describe('DHT message handling fuzz', () => {
  const socket = dgram.createSocket('udp4')
  let node: DhtNode
  afterAll(async () => {
    await node?.close()
    socket.close()
  })

  it('survives random and mutated KRPC messages and still answers a ping', async () => {
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
    const port = socket.address().port
    node = new DhtNode({ socket, bootstrap: [], address: '127.0.0.1', port, maxPeers: 1000 })
    socket.on('message', (buf, rinfo) => node.receive(buf, rinfo.address, rinfo.port))
    // Found by this fuzz run: a negative string length sent k-rpc-socket's decoder into an
    // endless loop, the whole process with it. It must be dropped before it gets there.
    node.receive(Buffer.from('d1:a-3:xe'), '127.0.0.2', 9)
    // Answers go to a port nobody listens on; what matters is that nothing throws.
    const seed = Date.now() >>> 0
    const rand = prng(seed)
    const deadline = Date.now() + 8_000
    let runs = 0
    for (; runs < 50_000 && Date.now() < deadline; runs++) {
      let input: Buffer
      if (runs % 3 === 0) {
        input = randomBytes(1 + Math.floor(rand() * 120))
        input[0] = 0x64 // 'd': what the demultiplexer hands to the DHT
      } else {
        input = Buffer.from(valid[Math.floor(rand() * valid.length)])
        for (let e = 0; e < 1 + rand() * 3; e++)
          input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256)
        if (rand() < 0.2) input = input.subarray(0, Math.floor(rand() * input.length))
      }
      try {
        node.receive(input, '127.0.0.2', 9 + (runs % 1000))
      } catch (err) {
        throw new Error(`seed ${seed}, input ${input.toString('hex')}: ${String(err)}`, {
          cause: err,
        })
      }
    }
    expect(runs).toBeGreaterThan(5_000)
    // Still a working node: a real ping over the socket gets its answer.
    const client = dgram.createSocket('udp4')
    const answer = await new Promise<any>((resolve, reject) => {
      client.on('message', (buf) => resolve(bencode.decode(buf)))
      setTimeout(() => reject(new Error('no answer to ping')), 3000)
      client.send(valid[0], port, '127.0.0.1')
    })
    client.close()
    expect(Buffer.from(answer.r.id).equals(node.nodeId)).toBe(true)
  }, 30_000)
})
