import bencode from 'bencode'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './cli.ts'
import {
  buildAlpineTree,
  buildArchTree,
  buildFedoraTree,
  buildOpensuseTree,
  buildUbuntuTree,
} from './fixtures/distributions.ts'
import {
  buildDebianTree,
  buildGentooTree,
  fixtureMinSize,
  type FixtureRelease,
} from './fixtures/mirror-tree.ts'

/**
 * One mirror root carrying seven distributions in their real layouts, scanned by the shipped
 * `scan` command with no profile named: `profile: auto` must find every release with its own
 * companions, make none of the symlinks and the distributions' own torrents, and hold back the
 * Fedora image its CHECKSUM contradicts.
 */
describe('scan over a root carrying every distribution, no profile named', () => {
  let root: string
  let dataDir: string
  let expected: FixtureRelease[]
  const corrupt = 'Fedora-Server-netinst-x86_64-43-1.6.iso'

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-profiles-'))
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-profiles-data-'))
    const gentoo = await buildGentooTree({ root: path.join(root, 'gentoo') })
    expected = [
      ...(await buildArchTree({ root })).releases,
      ...(await buildFedoraTree({ root, corrupt })).releases,
      ...(await buildUbuntuTree({ root })).releases,
      ...(await buildOpensuseTree({ root })).releases,
      ...(await buildAlpineTree({ root })).releases,
      ...(await buildDebianTree({ root })).releases,
      // Gentoo's builder writes paths relative to its own folder.
      ...gentoo.releases.map((r) => ({
        ...r,
        releaseDir: `gentoo/${r.releaseDir}`,
        artifact: `gentoo/${r.artifact}`,
        companions: r.companions.map((c) => `gentoo/${c}`),
      })),
    ]
  })

  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
    await rm(dataDir, { recursive: true, force: true })
  })

  const scan = () =>
    runCli(
      [
        'scan',
        '--root',
        root,
        '--data-dir',
        dataDir,
        '--min-size',
        String(fixtureMinSize),
        '--json',
      ],
      { env: { DATABASE_URL: '' }, timeoutMs: 120_000 },
    )

  /** Where `output.placement: distribution` puts a release's `.torrent`. */
  const distributionOf = (releaseDir: string): string => {
    const known = [
      'archlinux',
      'fedora/linux',
      'ubuntu-releases',
      'opensuse',
      'alpine',
      'debian-cd',
      'gentoo',
    ]
    return known.find((d) => releaseDir.startsWith(`${d}/`))!
  }
  const torrentPath = (r: { releaseDir: string; name: string }) => {
    const base = distributionOf(r.releaseDir)
    return path.join(
      root,
      base,
      'torrents',
      r.releaseDir.slice(base.length + 1),
      `${r.name}.torrent`,
    )
  }

  it('publishes one torrent per artifact with its own companions, and holds back the bad Fedora image', async () => {
    const result = await scan()
    expect(result.stderr).not.toMatch(/error/i)
    // A release failed verification: cron and rsync hooks must notice.
    expect(result.code).toBe(1)
    const summary = JSON.parse(result.stdout)

    const good = expected.filter((r) => !r.corrupted)
    const bad = expected.filter((r) => r.corrupted)
    expect(bad.map((r) => r.name)).toEqual([corrupt.replace(/\.iso$/, '')])
    const key = (r: { releaseDir: string; name: string }) => `${r.releaseDir}/${r.name}`
    expect(summary.published.map(key).sort()).toEqual(good.map(key).sort())
    expect(summary.failed.map(key)).toEqual(bad.map(key))
    expect(summary.failed[0].reason).toMatch(/does not match the one listed in .*-CHECKSUM/)
    expect(summary.held).toEqual([])
    // Every published release was checked against its distribution's own checksum files.
    for (const p of summary.published) expect(p.verified, key(p)).toBe(true)

    // What auto-detection chose, per distribution.
    const chosen = Object.fromEntries(
      summary.layouts.map((l: { distribution: string; profile: string }) => [
        l.distribution,
        l.profile,
      ]),
    )
    expect(chosen).toEqual({
      alpine: 'alpine',
      archlinux: 'arch',
      'debian-cd': 'debian',
      'fedora/linux': 'fedora',
      gentoo: 'gentoo',
      opensuse: 'opensuse',
      'ubuntu-releases': 'ubuntu',
    })

    // Each .torrent holds exactly the artifact and its companions, by file name.
    for (const r of good) {
      const torrent = bencode.decode(await readFile(torrentPath(r)))
      const files = (torrent.info.files as Array<{ path: Uint8Array[] }>).map((f) =>
        f.path.map((p) => Buffer.from(p).toString()).join('/'),
      )
      const want = [r.artifact, ...r.companions].map((f) => path.posix.basename(f))
      expect(files.sort(), r.name).toEqual(want.sort())
      // The web-seed symlink folder beside it resolves to the very files.
      const links = path.join(
        root,
        distributionOf(r.releaseDir),
        'torrent-symlinks',
        r.releaseDir.slice(distributionOf(r.releaseDir).length + 1),
        r.name,
      )
      expect(await realpath(path.join(links, path.posix.basename(r.artifact)))).toBe(
        await realpath(path.join(root, r.artifact)),
      )
    }
    expect(existsSync(torrentPath(bad[0]))).toBe(false)

    // No other .torrent anywhere in our output folders: none of a symlink, none of a
    // distribution's own torrent, none at the root.
    const ours: string[] = []
    const walk = async (dir: string, inOutput: boolean): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name)
        if (entry.isDirectory()) await walk(full, inOutput || entry.name === 'torrents')
        else if (inOutput && entry.name.endsWith('.torrent')) ours.push(full)
      }
    }
    await walk(root, false)
    expect(ours.sort()).toEqual(good.map(torrentPath).sort())
    expect(existsSync(path.join(root, 'torrents'))).toBe(false)
  })

  it('finds the same releases on the next pass, never reading its own output folders', async () => {
    const result = await scan()
    const summary = JSON.parse(result.stdout)
    expect(summary.releases).toBe(expected.length)
    expect(summary.published).toEqual([])
    expect(summary.unchanged).toBe(expected.length - 1)
    expect(summary.failed).toHaveLength(1)
  })
})
