import { once } from 'node:events'
import { createServer, type Socket, connect, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { databaseKinds } from '../../test/databases.ts'
import { openDatabase, type Database } from '../db/index.ts'
import { torrents } from '../db/schema.ts'
import { Tracker, type Announce } from '../tracker/index.ts'
import { CompletionCounts } from './counters.ts'

const hashA = 'aa'.repeat(20)
const hashB = 'bb'.repeat(20)

async function addTorrents(db: Database, hashes: string[]) {
  for (const infoHash of hashes) {
    await db.insert(torrents).values({
      infoHash,
      name: infoHash.slice(0, 8),
      releaseDir: 'releases/test',
      format: 'v1',
      pieceLength: 262144,
      size: 1,
      metainfo: Buffer.from('de'),
    })
  }
}

function completed(port: number, infoHash: string): Announce {
  return {
    infoHash: Buffer.from(infoHash, 'hex'),
    peerId: Buffer.alloc(20),
    port,
    uploaded: 0,
    downloaded: 0,
    left: 0,
    event: 1,
    numWant: 0,
    compact: true,
    ip: undefined,
  }
}

const address = Uint8Array.of(192, 0, 2, 1)

describe.each(databaseKinds)('CompletionCounts on %s', (_name, kind) => {
  it('adds batches to torrent_stats and loads them back, ignoring unknown torrents', async () => {
    const database = await kind.open()
    try {
      await addTorrents(database.db, [hashA, hashB])
      const store = new CompletionCounts(database.db)
      expect(await store.load()).toEqual(new Map())
      await store.addCompleted(
        new Map([
          [hashA, 3],
          ['cc'.repeat(20), 9],
        ]),
      )
      await store.addCompleted(
        new Map([
          [hashA, 2],
          [hashB, 1],
        ]),
      )
      expect(await store.load()).toEqual(
        new Map([
          [hashA, 5],
          [hashB, 1],
        ]),
      )
    } finally {
      await database.close()
    }
  })
})

describe.each(databaseKinds)('CompletionCounts, hybrid torrents, on %s', (_name, kind) => {
  it("counts completions in the v2 swarm (the truncated v2 hash) for the torrent's row", async () => {
    const database = await kind.open()
    try {
      const v2 = 'dd'.repeat(32)
      await database.db.insert(torrents).values({
        infoHash: hashA,
        infoHashV2: v2,
        name: 'hybrid',
        releaseDir: 'releases/test',
        format: 'hybrid',
        pieceLength: 262144,
        size: 1,
        metainfo: Buffer.from('de'),
      })
      const store = new CompletionCounts(database.db)
      // Both swarms in one batch: one torrent row, written once.
      await store.addCompleted(
        new Map([
          [hashA, 2],
          [v2.slice(0, 40), 3],
        ]),
      )
      await store.addCompleted(new Map([[v2.slice(0, 40), 1]]))
      expect(await store.load()).toEqual(new Map([[hashA, 6]]))
    } finally {
      await database.close()
    }
  })
})

/**
 * A TCP relay between the store and Postgres, so the test can take "the database" away and
 * bring it back without stopping the Postgres server other engineers' tests are using.
 */
async function relay(target: { host: string; port: number }) {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    port,
    /** Cut every open connection and refuse new ones, as a stopped server does. */
    down() {
      server.close()
      for (const socket of sockets) socket.destroy()
    },
    async up() {
      server.listen(port, '127.0.0.1')
      await once(server, 'listening')
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const postgresKind = databaseKinds.find(([name]) => name === 'postgres')?.[1]

describe.skipIf(!postgresKind)('tracker counters through a Postgres outage', () => {
  let cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const fn of cleanup.reverse()) await fn()
    cleanup = []
  })

  it('answers announces while the database is away and loses no completion', async () => {
    const database = await postgresKind!.open()
    cleanup.push(() => database.close())
    await addTorrents(database.db, [hashA])
    const target = new URL(database.url!)
    const link = await relay({ host: target.hostname, port: Number(target.port || 5432) })
    cleanup.push(() => link.close())
    const viaRelay = new URL(database.url!)
    viaRelay.hostname = '127.0.0.1'
    viaRelay.port = String(link.port)
    const handle = await openDatabase({ url: viaRelay.toString(), dataDir: database.dataDir })
    cleanup.push(() => handle.close())

    const tracker = new Tracker({ rateLimit: null, counterStore: new CompletionCounts(handle.db) })
    tracker.allow(hashA)
    await tracker.start()
    for (let i = 0; i < 3; i++) tracker.announce(completed(1000 + i, hashA), address, 4, true)
    await tracker.flush()
    expect((await new CompletionCounts(database.db).load()).get(hashA)).toBe(3)

    link.down()
    for (let i = 3; i < 10; i++) {
      // The announce path is synchronous: it cannot wait on the database.
      expect(tracker.announce(completed(1000 + i, hashA), address, 4, true).downloaded).toBe(i + 1)
    }
    await tracker.flush()
    expect(tracker.pendingCompletions).toBe(7)
    tracker.announce(completed(2000, hashA), address, 4, true)
    await tracker.flush()
    expect(tracker.pendingCompletions).toBe(8)

    await link.up()
    await tracker.flush()
    expect(tracker.pendingCompletions).toBe(0)
    expect((await new CompletionCounts(database.db).load()).get(hashA)).toBe(11)
    await tracker.close()

    // A restart reads the count back.
    const again = new Tracker({ rateLimit: null, counterStore: new CompletionCounts(database.db) })
    again.allow(hashA)
    await again.start()
    expect(again.stats(hashA)!.downloaded).toBe(11)
    await again.close()
  })
})
