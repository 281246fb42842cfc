import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseTorrent } from '../lib/metainfo/index.ts'
import {
  handleHttp,
  startUdp,
  Tracker,
  type Announce,
  type UdpServer,
} from '../lib/tracker/index.ts'
import { libtorrent, systemPython, tool } from './tools.ts'

/**
 * Real clients announce to our tracker over HTTP and over UDP and find each other through it
 * alone: DHT, local peer discovery and PEX are off everywhere, so a download can only start from
 * a peer the tracker handed out. A libtorrent session seeds; libtorrent, aria2c and
 * transmission-cli download from it.
 */
const mktorrent = tool('mktorrent', ['-h'])
const aria2c = tool('aria2c')
const transmission = tool('transmission-cli', ['-h'])
const lt = libtorrent()
const ready = mktorrent.found && lt.found

/**
 * Transmission drops every peer in 127.0.0.0/8 as a "martian" address (libtransmission's
 * isMartianAddr), so a swarm on 127.0.0.1 can never reach it. The swarm therefore lives on this
 * host's own interface address: packets to it still never leave the machine (the kernel routes
 * them over lo). Without such an address, loopback is used and the Transmission cases skip.
 */
const host =
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1'

const PYTHON = `
import json, sys, time
import libtorrent as lt
role, torrent, save, host, port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s = lt.session({
  'listen_interfaces': '%s:%d' % (host, port),
  'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
  # Every peer here has the same address: only the port tells them apart.
  'allow_multiple_connections_per_ip': True,
  'alert_mask': 0,
})
params = {'ti': lt.torrent_info(torrent), 'save_path': save}
if role == 'seed':
  params['flags'] = lt.torrent_flags.seed_mode
h = s.add_torrent(params)
deadline = time.time() + 50
while time.time() < deadline:
  st = h.status()
  if role != 'seed' and st.is_seeding:
    print(json.dumps({'done': True}), flush=True)
    break
  time.sleep(0.2)
`

interface Swarm {
  dir: string
  data: Buffer
  torrent: string
  infoHash: Buffer
}

let dir: string
let tracker: Tracker
let http: Server
let udp: UdpServer
let httpPort: number
/** Which ports each client learned, by client name (peer_id prefix). */
const learned = new Map<string, Set<number>>()
const children: ChildProcess[] = []

function clientName(peerId: Buffer): string {
  const id = peerId.toString('latin1')
  if (id.startsWith('A2')) return 'aria2c'
  if (id.startsWith('-TR')) return 'transmission'
  if (id.startsWith('-LT')) return 'libtorrent'
  return id.slice(0, 8)
}

async function freePort(): Promise<number> {
  const server = createTcpServer().listen(0, host)
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  server.close()
  return port
}

beforeAll(async () => {
  if (!ready) return
  dir = await mkdtemp(join(tmpdir(), 'tracker-interop-'))
  tracker = new Tracker({ rateLimit: null, interval: 30, minInterval: 5 })
  // Record what each client was told, to show they learned each other from us.
  const announce = tracker.announce.bind(tracker)
  tracker.announce = (a: Announce, address: Uint8Array, family: 4 | 6, both: boolean) => {
    const reply = announce(a, address, family, both)
    const name = clientName(a.peerId)
    const ports = learned.get(name) ?? new Set<number>()
    for (let o = 0; o < reply.peers.length; o += 6)
      ports.add((reply.peers[o + 4] << 8) | reply.peers[o + 5])
    learned.set(name, ports)
    return reply
  }
  await tracker.start()
  http = createServer((req, res) => {
    if (!handleHttp(tracker, req, res)) {
      res.statusCode = 404
      res.end()
    }
  })
  http.listen(0, host)
  await once(http, 'listening')
  httpPort = (http.address() as AddressInfo).port
  udp = await startUdp(tracker, { host, port: 0 })
  await writeFile(join(dir, 'client.py'), PYTHON)
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  if (!ready) return
  http.close()
  await udp.close()
  await tracker.close()
  await rm(dir, { recursive: true, force: true })
})

async function makeSwarm(name: string, announceUrl: string): Promise<Swarm> {
  const swarmDir = join(dir, name)
  await mkdir(join(swarmDir, 'seed'), { recursive: true })
  const data = randomBytes(3 * 1024 * 1024 + 12345)
  await writeFile(join(swarmDir, 'seed', 'release.iso'), data)
  const torrent = join(swarmDir, 'release.torrent')
  const made = spawnSync('mktorrent', [
    '-l',
    '16',
    '-a',
    announceUrl,
    '-o',
    torrent,
    join(swarmDir, 'seed', 'release.iso'),
  ])
  expect(made.status, made.stderr?.toString()).toBe(0)
  const infoHash = parseTorrent(await readFile(torrent)).infoHash!
  tracker.allow(infoHash)
  return { dir: swarmDir, data, torrent, infoHash }
}

function start(command: string, args: string[], cwd?: string): ChildProcess {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout!.resume()
  child.stderr!.resume()
  children.push(child)
  return child
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 40_000,
): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function hasFile(path: string, data: Buffer): Promise<boolean> {
  try {
    return (await readFile(path)).equals(data)
  } catch {
    return false
  }
}

async function seed(swarm: Swarm): Promise<number> {
  const port = await freePort()
  start(systemPython, [
    join(dir, 'client.py'),
    'seed',
    swarm.torrent,
    join(swarm.dir, 'seed'),
    host,
    String(port),
  ])
  await until('the seeder to announce', () => (tracker.stats(swarm.infoHash)?.complete ?? 0) >= 1)
  return port
}

async function libtorrentLeech(swarm: Swarm): Promise<void> {
  const target = join(swarm.dir, 'libtorrent')
  await mkdir(target)
  const child = start(systemPython, [
    join(dir, 'client.py'),
    'leech',
    swarm.torrent,
    target,
    host,
    String(await freePort()),
  ])
  await until('libtorrent to finish', () => hasFile(join(target, 'release.iso'), swarm.data))
  child.kill()
}

async function aria2Leech(swarm: Swarm, protocol: 'http' | 'udp'): Promise<void> {
  const target = join(swarm.dir, 'aria2c')
  const child = start('aria2c', [
    `--dir=${target}`,
    '--seed-time=0',
    // aria2 speaks UDP tracker only through its DHT socket ("udp is not supported yet"
    // otherwise). With no entry point and an empty routing table the DHT finds nobody, and
    // the seeder has DHT off: the tracker is still the only way to the seeder.
    `--enable-dht=${protocol === 'udp'}`,
    `--dht-file-path=${join(swarm.dir, 'aria2-dht.dat')}`,
    `--dht-listen-port=${await freePort()}`,
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    `--listen-port=${await freePort()}`,
    '--file-allocation=none',
    '--summary-interval=0',
    swarm.torrent,
  ])
  await until('aria2c to finish', () => hasFile(join(target, 'release.iso'), swarm.data))
  child.kill()
}

async function transmissionLeech(swarm: Swarm): Promise<void> {
  const target = join(swarm.dir, 'transmission')
  const config = join(swarm.dir, 'transmission-config')
  await mkdir(config, { recursive: true })
  await mkdir(target, { recursive: true })
  const settings = {
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'peer-port': await freePort(),
    'rpc-enabled': false,
  }
  await writeFile(join(config, 'settings.json'), JSON.stringify(settings))
  const child = start('transmission-cli', ['-g', config, '-w', target, swarm.torrent])
  await until('transmission-cli to finish', () => hasFile(join(target, 'release.iso'), swarm.data))
  child.kill()
}

for (const protocol of ['http', 'udp'] as const) {
  describe.skipIf(!ready)(
    `real clients through the ${protocol.toUpperCase()} tracker ${mktorrent.reason}${lt.reason}`,
    () => {
      let swarm: Swarm
      let seederPort: number

      beforeAll(async () => {
        if (!ready) return
        const url =
          protocol === 'http'
            ? `http://${host}:${httpPort}/announce`
            : `udp://${host}:${udp.port}/announce`
        swarm = await makeSwarm(protocol, url)
        seederPort = await seed(swarm)
      })

      it('libtorrent finds the libtorrent seeder', async () => {
        learned.clear()
        await libtorrentLeech(swarm)
        expect(learned.get('libtorrent')).toContain(seederPort)
      })

      it.skipIf(!aria2c.found)(`aria2c finds it ${aria2c.reason}`, async () => {
        learned.clear()
        await aria2Leech(swarm, protocol)
        expect(learned.get('aria2c')).toContain(seederPort)
      })

      it.skipIf(!transmission.found)(
        `transmission-cli finds it ${transmission.reason}`,
        async () => {
          learned.clear()
          await transmissionLeech(swarm)
          expect(learned.get('transmission')).toContain(seederPort)
        },
      )
    },
  )
}
