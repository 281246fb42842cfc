import { afterEach, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { eventLog, findTorrent, torrentPage } from '../catalog/index.ts'
import { parseTorrent } from '../metainfo/index.ts'
import { databaseKinds } from '../../test/databases.ts'
import {
  fixtureConfig,
  buildDebianTree,
  buildGentooTree,
  fixtureMinSize,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { Publisher, type LiveTorrent } from './index.ts'

const trees: FixtureTree[] = []
afterEach(async () => {
  for (const tree of trees.splice(0)) await tree.remove()
})

/** Every v1 piece of a torrent, checked against the bytes reached through `dir`. */
function piecesMatch(torrentFile: string, dir: string): boolean {
  const torrent = parseTorrent(readFileSync(torrentFile))
  const data = Buffer.concat(
    torrent.files.map((f) =>
      f.pad ? Buffer.alloc(f.length) : readFileSync(path.join(dir, ...f.path)),
    ),
  )
  for (let i = 0; i < torrent.pieceCount; i++) {
    const piece = data.subarray(i * torrent.pieceLength, (i + 1) * torrent.pieceLength)
    const want = torrent.pieces!.subarray(i * 20, i * 20 + 20)
    if (!createHash('sha1').update(piece).digest().equals(want)) return false
  }
  return true
}

describe.each(databaseKinds)('publishing on %s', (_name, kind) => {
  it('publishes one torrent per Gentoo release, with companions, symlinks and web seeds', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      const live: LiveTorrent[] = []
      const publisher = new Publisher({
        config: fixtureConfig(tree.root),
        database,
        events: { published: (t) => live.push(t) },
      })
      const summary = await publisher.reconcile()
      expect(summary.published.map((p) => p.name).sort()).toEqual(
        tree.releases.map((r) => r.name).sort(),
      )
      expect(summary.published.every((p) => p.verified)).toBe(true)
      expect(live).toHaveLength(tree.releases.length)

      for (const release of tree.releases) {
        const file = path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`)
        const torrent = parseTorrent(readFileSync(file))
        expect(torrent.name).toBe(release.name)
        // The artifact and its four companions, by their file names.
        expect(torrent.files.map((f) => f.path.join('/')).sort()).toEqual(
          [release.artifact, ...release.companions].map((p) => path.posix.basename(p)).sort(),
        )
        expect(torrent.announce).toBe('http://seed.example:6969/announce')
        expect(torrent.announceList.flat()).toContain('udp://seed.example:6969/announce')
        expect(torrent.urlList).toEqual([`http://seed.example:6969/webseed/${release.releaseDir}/`])
        expect(torrent.creationDate).toBe(Math.floor(tree.mtime.getTime() / 1000))
        // The symlink folder resolves to the files the torrent describes.
        const links = path.join(tree.root, 'torrent-symlinks', release.releaseDir, release.name)
        expect(piecesMatch(file, links)).toBe(true)
        for (const entry of readdirSync(links)) {
          expect(realpathSync(path.join(links, entry))).toBe(
            realpathSync(path.join(tree.root, release.releaseDir, entry)),
          )
        }
      }
      // The `current-…` directory symlink gave no second torrent.
      expect((await torrentPage(database.db, { limit: 1 })).total).toBe(tree.releases.length)
    } finally {
      await database.close()
    }
  })

  it('gives each Debian ISO its own torrent carrying the folder sums files', async () => {
    const tree = await buildDebianTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      const summary = await new Publisher({
        config: fixtureConfig(tree.root, {}, 'debian'),
        database,
      }).reconcile()
      expect(summary.published.map((p) => p.name).sort()).toEqual(
        tree.releases.map((r) => r.name).sort(),
      )
      for (const release of tree.releases) {
        const torrent = parseTorrent(
          readFileSync(
            path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`),
          ),
        )
        const names = torrent.files.map((f) => f.path.join('/'))
        expect(names).toContain(path.posix.basename(release.artifact))
        expect(names).toContain('SHA256SUMS')
        expect(names).toContain('SHA512SUMS')
      }
    } finally {
      await database.close()
    }
  })

  it('reads nothing and writes nothing when the tree has not changed, even after a restart', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      const config = fixtureConfig(tree.root)
      await new Publisher({ config, database }).reconcile()
      const release = tree.releases[0]
      const file = path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`)
      const before = statSync(file)
      // A new Publisher is what a restart gives: all it knows comes from the database.
      const again = await new Publisher({ config, database }).reconcile()
      expect(again.unchanged).toBe(tree.releases.length)
      expect(again.published).toEqual([])
      expect(again.bytesHashed).toBe(0)
      const after = statSync(file)
      expect(after.ino).toBe(before.ino)
      expect(after.mtimeMs).toBe(before.mtimeMs)
    } finally {
      await database.close()
    }
  })

  it('holds back a corrupted artifact while its neighbours publish, and does not re-read it', async () => {
    const tree = await buildGentooTree({ corrupt: 'stage3' })
    trees.push(tree)
    const database = await kind.open()
    try {
      const config = fixtureConfig(tree.root)
      const first = await new Publisher({ config, database }).reconcile()
      const bad = tree.releases.find((r) => r.corrupted)!
      expect(first.published.map((p) => p.name)).toEqual(
        tree.releases.filter((r) => !r.corrupted).map((r) => r.name),
      )
      expect(first.failed).toHaveLength(1)
      expect(first.failed[0].name).toBe(bad.name)
      expect(first.failed[0].reason).toMatch(/does not match/)
      expect(
        existsSync(path.join(tree.root, 'torrents', bad.releaseDir, `${bad.name}.torrent`)),
      ).toBe(false)
      const recorded = await eventLog(database.db, { kind: 'verification_failed' })
      expect(recorded).toHaveLength(1)

      const second = await new Publisher({ config, database }).reconcile()
      expect(second.failed).toHaveLength(1)
      expect(second.bytesHashed).toBe(0)
    } finally {
      await database.close()
    }
  })

  it('supersedes a changed release, keeps the old one tracked through the grace period, then drops it', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      const removed: string[] = []
      const config = fixtureConfig(tree.root, { tracker: { graceSeconds: 0.5 } })
      const publisher = new Publisher({
        config,
        database,
        events: { removed: (h) => removed.push(h) },
      })
      const first = await publisher.reconcile()
      const release = tree.releases[0]
      const old = first.published.find((p) => p.name === release.name)!

      // The signature is re-issued: a companion changes, so the torrent changes.
      const asc = path.join(
        tree.root,
        release.companions.find((c) => c.endsWith('.asc'))!,
      )
      appendFileSync(asc, 're-signed\n')
      const second = await publisher.reconcile()
      expect(second.published.map((p) => p.name)).toEqual([release.name])
      const fresh = second.published[0]
      expect(fresh.infoHash).not.toBe(old.infoHash)
      const oldRow = await findTorrent(database.db, old.infoHash)
      expect(oldRow?.status).toBe('superseded')
      expect(removed).toEqual([])

      await new Promise((r) => setTimeout(r, 600))
      const third = await publisher.reconcile()
      expect(third.removed.map((r) => r.infoHash)).toEqual([old.infoHash])
      expect(removed).toEqual([old.infoHash])
      // The outputs belong to the new torrent now and stay.
      const file = path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`)
      expect(parseTorrent(readFileSync(file)).infoHash!.toString('hex')).toBe(fresh.infoHash)
    } finally {
      await database.close()
    }
  })

  it('retires a release that vanished, then removes its .torrent and symlink folder', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      const config = fixtureConfig(tree.root, { tracker: { graceSeconds: 0.3 } })
      const publisher = new Publisher({ config, database })
      await publisher.reconcile()
      const release = tree.releases[0]
      for (const p of [release.artifact, ...release.companions]) rmSync(path.join(tree.root, p))
      const second = await publisher.reconcile()
      expect(second.retired.map((r) => r.name)).toEqual([release.name])
      const torrentFile = path.join(
        tree.root,
        'torrents',
        release.releaseDir,
        `${release.name}.torrent`,
      )
      expect(existsSync(torrentFile)).toBe(true) // still served during the grace period
      const { infoHash } = second.retired[0]
      const subject = `${release.releaseDir}/${release.name}`
      expect((await findTorrent(database.db, infoHash))?.status).toBe('superseded')
      expect((await eventLog(database.db, { kind: 'superseded' })).map((e) => e.message)).toEqual([
        `${subject}: gone from the tree, kept tracked for the grace period`,
      ])

      await new Promise((r) => setTimeout(r, 400))
      const third = await publisher.reconcile()
      expect(third.removed.map((r) => r.name)).toEqual([release.name])
      expect(existsSync(torrentFile)).toBe(false)
      expect((await findTorrent(database.db, infoHash))?.status).toBe('removed')
      expect((await eventLog(database.db, { kind: 'removed' })).map((e) => e.message)).toEqual([
        `${subject}: ${infoHash} removed after its grace period`,
      ])
      expect(
        existsSync(path.join(tree.root, 'torrent-symlinks', release.releaseDir, release.name)),
      ).toBe(false)
      // The neighbour's outputs are untouched.
      const other = tree.releases[1]
      expect(
        existsSync(path.join(tree.root, 'torrents', other.releaseDir, `${other.name}.torrent`)),
      ).toBe(true)
    } finally {
      await database.close()
    }
  })

  it('holds a release with no digest when digests are required, without reading it', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      const release = tree.releases[0]
      for (const c of release.companions.filter((c) => /\.(DIGESTS|sha256)$/.test(c)))
        rmSync(path.join(tree.root, c))
      const config = fixtureConfig(tree.root, {
        release: { minSize: fixtureMinSize, requireDigest: true },
      })
      const summary = await new Publisher({ config, database }).reconcile()
      expect(summary.held.map((h) => h.name)).toEqual([release.name])
      expect(summary.held[0].reason).toMatch(/no digest/)
      expect(summary.published.map((p) => p.name)).toEqual([tree.releases[1].name])
    } finally {
      await database.close()
    }
  })
})

describe.each(databaseKinds)('entries it cannot read, on %s', (_name, kind) => {
  it('makes each a problem of that entry, once, and publishes every good release', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const extra = path.join(tree.root, 'releases/amd64/extra')
    mkdirSync(extra, { recursive: true })
    // 240 bytes: its .torrent name is 248, and no temporary name may be longer than that.
    const long = `${'a'.repeat(236)}.iso`
    writeFileSync(path.join(extra, long), Buffer.alloc(fixtureMinSize * 2, 1))
    // A DIGESTS file over the 16 MiB cap is that release's problem.
    writeFileSync(path.join(extra, 'big.iso'), Buffer.alloc(fixtureMinSize * 2, 2))
    writeFileSync(path.join(extra, 'big.iso.DIGESTS'), Buffer.alloc(17 * 2 ** 20, 0x20))
    symlinkSync('loop-b.iso', path.join(extra, 'loop-a.iso'))
    symlinkSync('loop-a.iso', path.join(extra, 'loop-b.iso'))
    writeFileSync(Buffer.from(`${extra}/caf\xe9.iso`, 'latin1'), Buffer.alloc(fixtureMinSize * 2))
    const database = await kind.open()
    try {
      const publisher = new Publisher({ config: fixtureConfig(tree.root), database })
      const summary = await publisher.reconcile()
      expect(summary.published.map((p) => p.name).sort()).toEqual(
        [...tree.releases.map((r) => r.name), long].sort(),
      )
      expect(summary.problems.map((p) => [p.path, p.code])).toEqual([
        ['releases/amd64/extra/caf\\xe9.iso', 'NOT_UTF8'],
        ['releases/amd64/extra/loop-a.iso', 'ELOOP'],
        ['releases/amd64/extra/loop-b.iso', 'ELOOP'],
        ['releases/amd64/extra/big', 'bad-digest-file'],
      ])
      expect(
        existsSync(path.join(tree.root, 'torrents/releases/amd64/extra', `${long}.torrent`)),
      ).toBe(true)
      const recorded = () => eventLog(database.db, { kind: 'problem' })
      expect((await recorded()).map((e) => e.subject).sort()).toEqual(
        summary.problems.map((p) => p.path).sort(),
      )
      // Seen again, told once: no second row, and still every release in place.
      const again = await publisher.reconcile()
      expect(again.problems).toHaveLength(4)
      expect(await recorded()).toHaveLength(4)
      // Every .torrent in the tree is one the database tracks, and no temporary is left.
      const names = readdirSync(path.join(tree.root, 'torrents'), { recursive: true })
        .map(String)
        .filter((n) => path.basename(n).startsWith('.'))
      expect(names).toEqual([])
    } finally {
      await database.close()
    }
  })
})

describe.each(databaseKinds)('publish order on %s', (_name, kind) => {
  it('puts no .torrent in the tree that the database did not record', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      // The database refuses every new torrent, as a full disk or a lost connection would.
      await database.db.execute(
        sql.raw(`create function refuse_torrent() returns trigger language plpgsql as
          $$ begin raise exception 'refused by the test'; end $$`),
      )
      await database.db.execute(
        sql.raw(`create trigger refuse_torrent before insert on torrents
          for each row execute function refuse_torrent()`),
      )
      const publisher = new Publisher({ config: fixtureConfig(tree.root), database })
      await expect(publisher.reconcile()).rejects.toThrow()
      const outputs = path.join(tree.root, 'torrents')
      const left = existsSync(outputs)
        ? readdirSync(outputs, { recursive: true })
            .map(String)
            .filter((f) => statSync(path.join(outputs, f)).isFile())
        : []
      expect(left).toEqual([])

      await database.db.execute(sql.raw('drop trigger refuse_torrent on torrents'))
      const summary = await publisher.reconcile()
      expect(summary.published).toHaveLength(tree.releases.length)
      for (const r of tree.releases)
        expect(existsSync(path.join(outputs, r.releaseDir, `${r.name}.torrent`))).toBe(true)
    } finally {
      await database.close()
    }
  })

  it('writes again a recorded .torrent a crash left missing, between commit and rename', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const database = await kind.open()
    try {
      const config = fixtureConfig(tree.root)
      await new Publisher({ config, database }).reconcile()
      // What a SIGKILL right after the commit leaves: the row, the staged temporary, no .torrent.
      const [lost, kept] = tree.releases
      const file = (r: typeof lost) =>
        path.join(tree.root, 'torrents', r.releaseDir, `${r.name}.torrent`)
      const bytes = readFileSync(file(lost))
      rmSync(file(lost))
      writeFileSync(path.join(path.dirname(file(lost)), `.${lost.name}.torrent.tmp-1a2b3c`), bytes)
      const keptBefore = statSync(file(kept))

      // A restart: all the new Publisher knows of what was published comes from the database.
      const summary = await new Publisher({ config, database }).reconcile()
      expect(summary.published.map((p) => p.name)).toEqual([lost.name])
      expect(summary.unchanged).toBe(tree.releases.length - 1)
      expect(parseTorrent(readFileSync(file(lost))).infoHash).toEqual(parseTorrent(bytes).infoHash)
      expect(readdirSync(path.dirname(file(lost))).filter((n) => n.startsWith('.'))).toEqual([])
      expect(statSync(file(kept)).ino).toBe(keptBefore.ino)
    } finally {
      await database.close()
    }
  })
})

describe('torrents are byte-stable', () => {
  it('are the same bytes from two appliances with their own databases', async () => {
    const tree = await buildGentooTree()
    trees.push(tree)
    const [, kind] = databaseKinds[0]
    const bytes: Buffer[] = []
    for (let i = 0; i < 2; i++) {
      const database = await kind.open()
      try {
        await new Publisher({ config: fixtureConfig(tree.root), database }).reconcile()
      } finally {
        await database.close()
      }
      const release = tree.releases[0]
      const file = path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`)
      bytes.push(readFileSync(file))
      rmSync(path.join(tree.root, 'torrents'), { recursive: true })
      // A fresh mtime on the tree must not matter either: only the artifact's mtime goes in.
      utimesSync(tree.root, new Date(), new Date())
    }
    expect(bytes[0].equals(bytes[1])).toBe(true)
  })
})

describe.each(databaseKinds.filter(([n]) => n === 'postgres'))(
  'two generators on one %s',
  (_n, kind) => {
    it('never publish the same release twice', async () => {
      const tree = await buildGentooTree()
      trees.push(tree)
      const database = await kind.open()
      const { openDatabase } = await import('../db/index.ts')
      const other = await openDatabase({ url: database.url, dataDir: database.dataDir })
      try {
        const config = fixtureConfig(tree.root)
        const [a, b] = await Promise.all([
          new Publisher({ config, database }).reconcile(),
          new Publisher({ config, database: other }).reconcile(),
        ])
        expect(a.published.length + b.published.length).toBe(tree.releases.length)
        const published = await eventLog(database.db, { kind: 'published' })
        expect(published).toHaveLength(tree.releases.length)
      } finally {
        await other.close()
        await database.close()
      }
    })
  },
)
