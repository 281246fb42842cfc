import bencode from 'bencode'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './cli.ts'
import { tool } from './tools.ts'
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
describe(
  'scan over a root carrying every distribution, no profile named',
  { timeout: 240_000 },
  () => {
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
  },
)

const gpg = tool('gpg')

/**
 * `release.keyring` over the same kinds of tree: every signature each distribution publishes is
 * made by a real key (Arch's detached `.sig` over the images, Fedora's clearsigned CHECKSUM,
 * Ubuntu's `SHA256SUMS.gpg`, openSUSE's `.sha256.asc`, Alpine's `.asc`), except one Fedora
 * CHECKSUM clearsigned by a key outside the keyring: its images are held back, the rest publish.
 */
describe.skipIf(!gpg.found)(`scan with release.keyring ${gpg.reason}`, { timeout: 240_000 }, () => {
  let root: string
  let home: string
  let dataDir: string
  let keyring: string
  let expected: FixtureRelease[]

  const gpgRun = (gnupgHome: string, args: string[]): void => {
    execFileSync(
      'gpg',
      ['--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
      { env: { ...process.env, GNUPGHOME: gnupgHome }, stdio: 'ignore' },
    )
  }

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-keyring-'))
    home = await mkdtemp(path.join(os.tmpdir(), 'ms-gpg-'))
    dataDir = path.join(home, 'data')
    const releng = path.join(home, 'releng')
    const stranger = path.join(home, 'stranger')
    for (const [dir, uid] of [
      [releng, 'Release Engineering <releng@example.org>'],
      [stranger, 'Someone Else <else@example.org>'],
    ]) {
      await mkdir(dir, { mode: 0o700 })
      gpgRun(dir, ['--quick-gen-key', uid, 'ed25519', 'sign', 'never'])
    }
    keyring = path.join(home, 'release-keys.gpg')
    gpgRun(releng, ['--output', keyring, '--export'])

    expected = [
      ...(await buildArchTree({ root })).releases,
      ...(await buildFedoraTree({ root })).releases,
      ...(await buildUbuntuTree({ root })).releases,
      ...(await buildOpensuseTree({ root })).releases,
      ...(await buildAlpineTree({ root })).releases,
    ]
    const at = (rel: string) => path.join(root, rel)
    const detach = (signature: string, signed: string) =>
      gpgRun(releng, ['--detach-sign', '--output', at(signature), at(signed)])
    for (const r of expected) {
      const dir = r.releaseDir
      if (r.artifact.includes('archlinux')) detach(`${r.artifact}.sig`, r.artifact)
      if (r.artifact.includes('alpine')) detach(`${r.artifact}.asc`, r.artifact)
      if (r.artifact.includes('openSUSE'))
        detach(`${r.artifact}.sha256.asc`, `${r.artifact}.sha256`)
      if (r.artifact.includes('ubuntu')) detach(`${dir}/SHA256SUMS.gpg`, `${dir}/SHA256SUMS`)
      for (const checksum of r.companions.filter((c) => c.endsWith('-CHECKSUM'))) {
        // Strip the fixture's stand-in signature, then clearsign the list for real.
        const text = await readFile(at(checksum), 'utf8')
        const body = text.split('\n\n').slice(1).join('\n\n').split('-----BEGIN PGP SIGNATURE')[0]
        await writeFile(at(checksum), body)
        const signer = checksum.includes('Server') ? stranger : releng
        gpgRun(signer, ['--clearsign', '--output', `${at(checksum)}.signed`, at(checksum)])
        await rename(`${at(checksum)}.signed`, at(checksum))
      }
    }
    await writeFile(
      path.join(home, 'mirrorseed.yaml'),
      `release:\n  keyring: ${JSON.stringify(keyring)}\n  minSize: ${fixtureMinSize}\n`,
    )
  }, 180_000)

  afterAll(async () => {
    for (const dir of ['releng', 'stranger']) {
      spawnSync('gpgconf', ['--kill', 'gpg-agent'], {
        env: { ...process.env, GNUPGHOME: path.join(home, dir) },
      })
    }
    await rm(root, { recursive: true, force: true })
    await rm(home, { recursive: true, force: true })
  })

  it('publishes what the keyring signed and holds back what a stranger signed', async () => {
    const result = await runCli(
      [
        'scan',
        '--config',
        path.join(home, 'mirrorseed.yaml'),
        '--root',
        root,
        '--data-dir',
        dataDir,
        '--json',
      ],
      { env: { DATABASE_URL: '' }, timeoutMs: 120_000 },
    )
    expect(result.code).toBe(1)
    const summary = JSON.parse(result.stdout)
    const key = (r: { releaseDir: string; name: string }) => `${r.releaseDir}/${r.name}`
    const server = (r: FixtureRelease) => r.releaseDir.includes('/Server/')
    expect(summary.published.map(key).sort()).toEqual(
      expected
        .filter((r) => !server(r))
        .map(key)
        .sort(),
    )
    expect(summary.failed.map(key).sort()).toEqual(expected.filter(server).map(key).sort())
    for (const f of summary.failed) {
      expect(f.reason).toMatch(/signature .*Fedora-Server-43-1\.6-x86_64-CHECKSUM does not verify/)
    }
  })
})

/**
 * Arch lists each image in sha256sums.txt and b2sums.txt. A b2sums.txt line that contradicts the
 * image: by default the image is hashed once (SHA-256, which matches); `release.verifyAll` hashes
 * BLAKE2b too and holds the image back.
 */
describe('scan with release.verifyAll', { timeout: 240_000 }, () => {
  let root: string
  let dataDir: string

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-verifyall-'))
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-verifyall-data-'))
    const arch = await buildArchTree({ root })
    const b2sums = path.join(root, arch.releases[0].releaseDir, 'b2sums.txt')
    const iso = path.basename(arch.releases[0].artifact)
    const text = await readFile(b2sums, 'utf8')
    await writeFile(
      b2sums,
      text.replace(
        new RegExp(`^[0-9a-f]{128}(  ${iso.replace(/\./g, '\\.')})$`, 'm'),
        `${'f'.repeat(128)}$1`,
      ),
    )
  }, 180_000)

  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
    await rm(dataDir, { recursive: true, force: true })
  })

  const scan = async (verifyAll: boolean) => {
    const config = path.join(dataDir, `verify-${verifyAll}.yaml`)
    await writeFile(config, `release:\n  verifyAll: ${verifyAll}\n  minSize: ${fixtureMinSize}\n`)
    const data = path.join(dataDir, `db-${verifyAll}`)
    const result = await runCli(
      ['scan', '--config', config, '--root', root, '--data-dir', data, '--json'],
      { env: { DATABASE_URL: '' }, timeoutMs: 120_000 },
    )
    return { code: result.code, summary: JSON.parse(result.stdout) }
  }

  it('holds back the image a b2sums.txt line contradicts only when asked to hash every algorithm', async () => {
    const one = await scan(false)
    expect(one.code).toBe(0)
    expect(one.summary.published.map((p: { name: string }) => p.name).sort()).toEqual([
      'archlinux-2026.11.01-x86_64',
      'archlinux-bootstrap-2026.11.01-x86_64',
    ])
    const every = await scan(true)
    expect(every.code).toBe(1)
    expect(every.summary.published.map((p: { name: string }) => p.name)).toEqual([
      'archlinux-bootstrap-2026.11.01-x86_64',
    ])
    expect(every.summary.failed[0].reason).toMatch(
      /blake2b512 of .* does not match the one listed in .*b2sums\.txt/,
    )
  })
})
