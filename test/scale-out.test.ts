import { describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { decode, encode } from '../lib/bencode/index.ts'
import { ready, startServe, until, type RunningServe, afterEachTest } from './cli.ts'
import { databaseKinds } from './databases.ts'
import { treeArgs, buildGentooTree, type FixtureTree } from './fixtures/mirror-tree.ts'
import { aria2c, sameAsTree } from './aria2c.ts'
import { tool } from './tools.ts'

// Scaling out on one machine (docs/architecture.md, "Scaling out"): two `serve` processes over one Postgres,
// one generating and tracking, one seeding; they learn of each other's work only through the
// database (LISTEN/NOTIFY) and the tracker, as two hosts would.

const { cleanups, scratch } = afterEachTest('mirrorseed-scale-')

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<RunningServe> {
  const node = await startServe(args, { env })
  cleanups.push(() => node.stop())
  return node
}

function peersOf(reply: Record<string, unknown>): string[] {
  const peers = reply.peers as Buffer
  const out: string[] = []
  for (let i = 0; i + 6 <= peers.length; i += 6) {
    out.push(`${peers.subarray(i, i + 4).join('.')}:${peers.readUInt16BE(i + 4)}`)
  }
  return out
}

const aria2cTool = tool('aria2c')
describe.each(databaseKinds.filter(([name]) => name === 'postgres'))(
  'two nodes on one %s',
  (_name, kind) => {
    it.skipIf(!aria2cTool.found)(
      `seed on the second node what the first one publishes ${aria2cTool.reason}`,
      async () => {
        const database = await kind.open({ migrate: false })
        cleanups.push(() => database.close())
        const env = {
          DATABASE_URL: database.url,
          MIRRORSEED_ADMIN_TOKEN: 'a-long-enough-test-token',
        }
        const tree: FixtureTree = await buildGentooTree()
        cleanups.push(() => tree.remove())
        const common = [...treeArgs(tree)]

        // The seeder node first, on an empty database: it can only learn of torrents later.
        const seeder = await serve([...common, '--data-dir', scratch()], {
          ...env,
          MIRRORSEED_ROLES: 'seeder,webseed',
        })
        await ready(seeder)
        const generator = await serve([...common, '--data-dir', scratch()], {
          ...env,
          MIRRORSEED_ROLES: 'generator,tracker,api,web',
        })
        await ready(generator)

        const release = tree.releases[0]
        const file = path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`)
        const meta = decode(readFileSync(file)) as Record<string, unknown>
        const infoHash = (await import('node:crypto'))
          .createHash('sha1')
          .update(encode(meta.info as never))
          .digest('hex')
        const announce = `${generator.url}/announce?info_hash=${infoHash.replace(/../g, (b) => `%${b}`)}&peer_id=-XX0001-000000000000&port=7001&uploaded=0&downloaded=0&left=1&compact=1`

        // The generator's tracker learns of the other node's seeder from its announce.
        const listed = await until('the seeder node in the swarm', async () => {
          const reply = decode(Buffer.from(await (await fetch(announce)).arrayBuffer())) as Record<
            string,
            unknown
          >
          const peers = peersOf(reply)
          return peers.includes(`127.0.0.1:${seeder.peerPort}`) ? peers : undefined
        })
        expect(listed).toEqual([`127.0.0.1:${seeder.peerPort}`])

        // The seeder node's web seed serves the release too.
        const artifact = path.posix.basename(release.artifact)
        const range = await fetch(
          `${seeder.url}/webseed/${release.releaseDir}/${release.name}/${artifact}`,
          {
            headers: { range: 'bytes=0-99' },
          },
        )
        expect(range.status).toBe(206)

        // A real client downloads it through the first node's tracker from the second node alone.
        delete meta['url-list']
        const peerOnly = path.join(scratch(), 'peer-only.torrent')
        writeFileSync(peerOnly, encode(meta as never))
        const out = scratch()
        const run = await aria2c(peerOnly, out)
        expect(run.code, run.output).toBe(0)
        expect(sameAsTree(out, tree.root, release)).toBe(true)
      },
    )
  },
)
