import { describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { decode } from '../lib/bencode/index.ts'
import { parseTorrent } from '../lib/metainfo/index.ts'
import { bin, ready, runCli, startServe, until, afterEachTest } from './cli.ts'
import {
  treeArgs,
  buildGentooTree,
  pseudoRandom,
  type FixtureTree,
} from './fixtures/mirror-tree.ts'
import { aria2c, sameAsTree } from './aria2c.ts'
import { tool } from './tools.ts'

const { running, cleanups, scratch } = afterEachTest('mirrorseed-e2e-')

async function gentoo(options: Parameters<typeof buildGentooTree>[0] = {}): Promise<FixtureTree> {
  const tree = await buildGentooTree(options)
  cleanups.push(() => tree.remove())
  return tree
}

/** Each v1 piece of `torrentFile` checked against the files under `dir`. */
function piecesMatch(torrentFile: string, dir: string): boolean {
  const torrent = parseTorrent(readFileSync(torrentFile))
  const data = Buffer.concat(torrent.files.map((f) => readFileSync(path.join(dir, ...f.path))))
  for (let i = 0; i < torrent.pieceCount; i++) {
    const piece = data.subarray(i * torrent.pieceLength, (i + 1) * torrent.pieceLength)
    if (
      !createHash('sha1')
        .update(piece)
        .digest()
        .equals(torrent.pieces!.subarray(i * 20, i * 20 + 20))
    )
      return false
  }
  return true
}

function announceUrl(base: string, infoHash: string): string {
  const hash = infoHash.replace(/../g, (b) => `%${b}`)
  return `${base}/announce?info_hash=${hash}&peer_id=-AR1360-abcdefghijkl&port=6999&uploaded=0&downloaded=0&left=1&compact=1`
}

/** A Gentoo-like fixture tree, and `serve` on it, ready (first scan done). */
async function serveGentoo(args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const tree = await gentoo()
  const serve = await startServe([...treeArgs(tree), '--data-dir', scratch(), ...args], { env })
  running.push(serve)
  await ready(serve)
  return { tree, serve }
}

const fastWatch = 'watch:\n  quietSeconds: 0.3\n  maxWaitSeconds: 5\n  stableSeconds: 0.5\n'

describe('the appliance', () => {
  it('publishes the tree at start, tracks only what it published, and lists its seeder', async () => {
    const { tree, serve } = await serveGentoo()
    for (const release of tree.releases) {
      const file = path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`)
      const torrent = parseTorrent(readFileSync(file))
      const reply = decode(
        Buffer.from(
          await (
            await fetch(announceUrl(serve.url, torrent.infoHash!.toString('hex')))
          ).arrayBuffer(),
        ),
      ) as Record<string, any>
      expect(reply['failure reason']).toBeUndefined()
      // Our own seeder is in the swarm: 127.0.0.1 and its peer port, compact.
      const peers = reply.peers as Buffer
      const listed = []
      for (let i = 0; i < peers.length; i += 6)
        listed.push(`${peers.subarray(i, i + 4).join('.')}:${peers.readUInt16BE(i + 4)}`)
      expect(listed).toContain(`127.0.0.1:${serve.peerPort}`)
    }
    const unknown = decode(
      Buffer.from(await (await fetch(announceUrl(serve.url, 'ab'.repeat(20)))).arrayBuffer()),
    ) as Record<string, any>
    expect(String(unknown['failure reason'])).toMatch(/not tracked|unknown|not registered/i)
  })

  it('rescans on request from the command line, with the admin token', async () => {
    const dataDir = scratch()
    // The last --data-dir wins: this test needs to know where the token was written.
    const { serve } = await serveGentoo(['--data-dir', dataDir], { MIRRORSEED_ADMIN_TOKEN: '' })
    const url = serve.url
    const denied = await runCli(['rescan', '--url', url, '--data-dir', scratch()], {
      env: { MIRRORSEED_ADMIN_TOKEN: '' },
    })
    expect(denied.code).toBe(2)
    expect(denied.stderr).toMatch(/no admin token/)
    const wrong = await runCli(['rescan', '--url', url], {
      env: { MIRRORSEED_ADMIN_TOKEN: 'x'.repeat(32) },
    })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/a valid bearer token is required/)
    const ok = await runCli(['rescan', 'releases', '--url', url, '--data-dir', dataDir, '--wait'], {
      env: { MIRRORSEED_ADMIN_TOKEN: '' },
    })
    expect(ok.stderr).toBe('')
    expect(ok.stdout).toMatch(/^2 releases: 0 published, 2 unchanged, 0 failed, 0 held$/m)
    expect(ok.code).toBe(0)
  })
})

const aria2cTool = tool('aria2c')
describe.skipIf(!aria2cTool.found)(
  `a download from the appliance alone ${aria2cTool.reason}`,
  () => {
    it.each([
      ['tracker and seeder', []],
      ['web seed only', ['--bt-tracker-connect-timeout=1', '--bt-stop-timeout=60']],
    ])('by aria2c through the %s is correct to the byte', async (_how, extra) => {
      const { tree } = await serveGentoo()
      const release = tree.releases[0]
      let file = path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`)
      if (_how === 'web seed only') {
        // The same info, with the tracker taken away: only url-list (our /webseed/) is left.
        const { encode } = await import('../lib/bencode/index.ts')
        const meta = decode(readFileSync(file)) as Record<string, unknown>
        delete meta.announce
        delete meta['announce-list']
        file = path.join(scratch(), 'webseed-only.torrent')
        writeFileSync(file, encode(meta as never))
      }
      const out = scratch()
      const run = await aria2c(file, out, extra)
      expect(run.code, run.output).toBe(0)
      expect(sameAsTree(out, tree.root, release)).toBe(true)
    })
  },
)

const rsync = tool('rsync')
describe.skipIf(!rsync.found)(`rsync into a watched tree ${rsync.reason}`, () => {
  it.each([[[]], [['--delay-updates']], [['--inplace']]])(
    'publishes each release once and never a partial file (rsync %j)',
    async (flags) => {
      const source = await gentoo({ sizes: { iso: 6 * 1024 * 1024, stage3: 5 * 1024 * 1024 } })
      const target = scratch()
      const config = path.join(scratch(), 'mirrorseed.yaml')
      writeFileSync(config, fastWatch)
      const serve = await startServe([
        '--config',
        config,
        ...treeArgs({ root: target }),
        '--data-dir',
        scratch(),
      ])
      running.push(serve)
      await ready(serve)
      // A slow copy, so the watcher sees the tree mid-transfer.
      const copy = spawnSync(
        'rsync',
        ['-a', '--bwlimit=4000', ...flags, `${source.root}/releases`, target],
        { encoding: 'utf8' },
      )
      expect(copy.status, copy.stderr).toBe(0)
      for (const release of source.releases) {
        const file = path.join(target, 'torrents', release.releaseDir, `${release.name}.torrent`)
        await until(`${release.name}.torrent`, () => existsSync(file))
        expect(piecesMatch(file, path.join(target, release.releaseDir))).toBe(true)
      }
      await new Promise((r) => setTimeout(r, 1500))
      const published = serve.log().match(/^info published /gm) ?? []
      expect(published).toHaveLength(source.releases.length)
    },
  )
})

describe('a scan killed with SIGKILL', () => {
  it('leaves no half-written .torrent or symlink folder, and the next scan finishes the work', async () => {
    const root = scratch()
    const releases = 6
    for (let i = 0; i < releases; i++) {
      const dir = path.join(root, 'releases', `r${i}`)
      mkdirSync(dir, { recursive: true })
      const data = pseudoRandom(8 * 1024 * 1024, i + 1)
      writeFileSync(path.join(dir, `image-${i}.iso`), data)
      writeFileSync(
        path.join(dir, `image-${i}.iso.sha256`),
        `${createHash('sha256').update(data).digest('hex')}  image-${i}.iso\n`,
      )
    }
    const dataDir = scratch()
    const args = [
      'scan',
      '--root',
      root,
      '--profile',
      'generic',
      '--min-size',
      '65536',
      '--data-dir',
      dataDir,
    ]
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    child.stderr.on('data', (d) => {
      log += d
      if (/published/.test(log)) child.kill('SIGKILL')
    })
    await new Promise((r) => child.on('close', r))
    expect(log).toMatch(/published/)

    const torrents = path.join(root, 'torrents')
    const written = readdirSync(torrents, { recursive: true, withFileTypes: true }).filter(
      (e) => e.isFile() && !e.name.startsWith('.'),
    )
    expect(written.length).toBeGreaterThan(0)
    expect(written.length).toBeLessThan(releases)
    for (const entry of written) {
      // Every .torrent that exists is whole, and its symlink folder complete.
      const file = path.join(entry.parentPath, entry.name)
      const torrent = parseTorrent(readFileSync(file))
      const releaseDir = path.relative(torrents, entry.parentPath)
      expect(piecesMatch(file, path.join(root, 'torrent-symlinks', releaseDir, torrent.name))).toBe(
        true,
      )
    }

    const next = await runCli(args)
    expect(next.code).toBe(0)
    expect(next.stdout).toMatch(new RegExp(`^${releases} releases: `, 'm'))
    const all = readdirSync(torrents, { recursive: true, withFileTypes: true }).filter((e) =>
      e.isFile(),
    )
    expect(all.map((e) => e.name).filter((n) => n.startsWith('.'))).toEqual([])
    expect(all).toHaveLength(releases)
  })
})

describe('symlink folders on a downstream mirror', () => {
  it.skipIf(!rsync.found)(
    'resolve after rsync -a to the bytes each torrent describes',
    async () => {
      const tree = await gentoo()
      const result = await runCli(['scan', ...treeArgs(tree), '--data-dir', scratch()])
      expect(result.code).toBe(0)
      const mirror = scratch()
      expect(spawnSync('rsync', ['-a', `${tree.root}/`, mirror]).status).toBe(0)
      for (const release of tree.releases) {
        const file = path.join(mirror, 'torrents', release.releaseDir, `${release.name}.torrent`)
        expect(
          piecesMatch(
            file,
            path.join(mirror, 'torrent-symlinks', release.releaseDir, release.name),
          ),
        ).toBe(true)
      }
    },
  )
})
