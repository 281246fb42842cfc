import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  buildDebianTree,
  buildGentooTree,
  fixtureMinSize,
  pseudoRandom,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { ReleaseError, resolveProfile, scanDirectory, scanReleases } from './index.ts'

const trees: FixtureTree[] = []
async function tree(build: () => Promise<FixtureTree>): Promise<FixtureTree> {
  const t = await build()
  trees.push(t)
  return t
}
afterEach(async () => {
  await Promise.all(trees.splice(0).map((t) => t.remove()))
})

const gentoo = resolveProfile('gentoo', { minSize: fixtureMinSize })
const debian = resolveProfile('debian', { minSize: fixtureMinSize })
const generic = resolveProfile('generic', { minSize: fixtureMinSize })

function summary(
  releases: {
    releaseDir: string
    name: string
    artifact: { path: string }
    companions: { path: string }[]
  }[],
) {
  return releases.map((r) => ({
    releaseDir: r.releaseDir,
    name: r.name,
    artifact: r.artifact.path,
    companions: r.companions.map((c) => c.path),
  }))
}

function layout(t: FixtureTree) {
  return t.releases.map((r) => ({
    releaseDir: r.releaseDir,
    name: r.name,
    artifact: r.artifact,
    companions: r.companions,
  }))
}

describe('scanReleases on a Gentoo tree', () => {
  it('finds one release per artifact with its four companions, none through current-…', async () => {
    const t = await tree(() => buildGentooTree())
    const { releases } = await scanReleases(t.root, { profile: gentoo })
    expect(summary(releases)).toEqual(layout(t))
    for (const r of releases) expect(r.companions).toHaveLength(4)
  })

  it('describes each file as stat sees it', async () => {
    const t = await tree(() => buildGentooTree())
    const { releases } = await scanReleases(t.root, { profile: gentoo })
    const ref = releases[0].artifact
    const s = await stat(path.join(t.root, ref.path))
    expect(ref).toMatchObject({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino })
    expect((await stat(ref.absPath)).ino).toBe(s.ino)
    expect(ref.size).toBe(t.releases[0].size)
  })

  it('never reads rsync temp files or .~tmp~ staging folders', async () => {
    const t = await tree(() => buildGentooTree())
    const dir = path.join(t.root, t.releases[0].releaseDir)
    const big = pseudoRandom(fixtureMinSize * 2, 7)
    await writeFile(path.join(dir, '.install-amd64-minimal-20261118T000000Z.iso.Xy12Ab'), big)
    await mkdir(path.join(dir, '.~tmp~'))
    await writeFile(path.join(dir, '.~tmp~', 'install-amd64-minimal-20261118T000000Z.iso'), big)
    await mkdir(path.join(t.root, '.hidden'))
    await writeFile(path.join(t.root, '.hidden', 'x.iso'), big)
    const { releases } = await scanReleases(t.root, { profile: gentoo })
    expect(summary(releases)).toEqual(layout(t))
  })

  it('keeps out our output folders, whatever they are called', async () => {
    const t = await tree(() => buildGentooTree())
    const big = pseudoRandom(fixtureMinSize * 2, 8)
    for (const dir of ['torrents/x', 'torrent-symlinks/x/y', 'out/links/z']) {
      await mkdir(path.join(t.root, dir), { recursive: true })
      await writeFile(path.join(t.root, dir, 'copy.iso'), big)
    }
    const byDefault = await scanReleases(t.root, { profile: gentoo })
    expect(byDefault.releases.map((r) => r.artifact.path)).toContain('out/links/z/copy.iso')
    expect(byDefault.releases).toHaveLength(3)
    const renamed = await scanReleases(t.root, { profile: gentoo, outputDirs: ['out/links'] })
    expect(renamed.releases.map((r) => r.artifact.path)).not.toContain('out/links/z/copy.iso')
    expect(renamed.releases.map((r) => r.artifact.path)).toContain('torrents/x/copy.iso')
  })

  it('tells why a small artifact or a symlink out of the root is no release', async () => {
    const t = await tree(() => buildGentooTree())
    const outside = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-outside-'))
    try {
      await writeFile(path.join(outside, 'secret.iso'), pseudoRandom(fixtureMinSize * 2, 9))
      await symlink(path.join(outside, 'secret.iso'), path.join(t.root, 'leak.iso'))
      await symlink('nowhere.iso', path.join(t.root, 'dangling.iso'))
      await writeFile(path.join(t.root, 'tiny.iso'), 'not an image')
      const { releases, ignored } = await scanReleases(t.root, { profile: gentoo })
      expect(summary(releases)).toEqual(layout(t))
      expect(ignored).toEqual([
        { path: 'dangling.iso', reason: 'broken symlink' },
        { path: 'leak.iso', reason: 'symlink leaves the root' },
        { path: 'tiny.iso', reason: 'below minSize' },
      ])
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })

  it('makes no release of a file symlink inside the root: its target is the release', async () => {
    const t = await tree(() => buildGentooTree())
    await symlink(t.releases[0].artifact, path.join(t.root, 'minimal.iso'))
    const { releases, ignored } = await scanReleases(t.root, { profile: gentoo })
    expect(summary(releases)).toEqual(layout(t))
    expect(ignored).toContainEqual({ path: 'minimal.iso', reason: 'symlink to a file in the tree' })
  })

  it('gives a lone artifact a single-file release named after the file', async () => {
    const t = await tree(() => buildGentooTree())
    await mkdir(path.join(t.root, 'snapshots'))
    await writeFile(
      path.join(t.root, 'snapshots/portage-20261117.tar.xz'),
      pseudoRandom(fixtureMinSize, 3),
    )
    const { releases } = await scanReleases(t.root, { profile: gentoo })
    expect(summary(releases.filter((r) => r.releaseDir === 'snapshots'))).toEqual([
      {
        releaseDir: 'snapshots',
        name: 'portage-20261117.tar.xz',
        artifact: 'snapshots/portage-20261117.tar.xz',
        companions: [],
      },
    ])
  })

  it('never takes a .torrent for an artifact, even when config asks for every file', async () => {
    const t = await tree(() => buildGentooTree())
    await writeFile(path.join(t.root, 'big.torrent'), pseudoRandom(fixtureMinSize * 2, 4))
    const everything = resolveProfile('gentoo', { minSize: fixtureMinSize, artifacts: ['*'] })
    const { releases } = await scanReleases(t.root, { profile: everything })
    expect(releases.map((r) => r.artifact.path)).not.toContain('big.torrent')
  })

  it('honours include and exclude globs from config', async () => {
    const t = await tree(() => buildGentooTree())
    const onlyIso = resolveProfile('gentoo', { minSize: fixtureMinSize, include: ['**/*.iso'] })
    expect((await scanReleases(t.root, { profile: onlyIso })).releases.map((r) => r.name)).toEqual([
      t.releases[0].name,
    ])
    const onlyAmd64 = resolveProfile('gentoo', {
      minSize: fixtureMinSize,
      include: ['releases/amd64'],
    })
    expect((await scanReleases(t.root, { profile: onlyAmd64 })).releases).toHaveLength(2)
    const onlyArm = resolveProfile('gentoo', {
      minSize: fixtureMinSize,
      include: ['releases/arm64'],
    })
    expect((await scanReleases(t.root, { profile: onlyArm })).releases).toEqual([])
    const noAutobuilds = resolveProfile('gentoo', {
      minSize: fixtureMinSize,
      exclude: ['autobuilds'],
    })
    expect((await scanReleases(t.root, { profile: noAutobuilds })).releases).toEqual([])
  })

  it('scans one directory, and refuses a path through a symlink or out of the root', async () => {
    const t = await tree(() => buildGentooTree())
    const dir = t.releases[0].releaseDir
    const one = await scanDirectory(t.root, dir, { profile: gentoo })
    expect(summary(one.releases)).toEqual(layout(t))
    const parent = await scanDirectory(t.root, 'releases/amd64/autobuilds', { profile: gentoo })
    expect(parent.releases).toEqual([])
    await expect(
      scanDirectory(t.root, 'releases/amd64/autobuilds/current-install-amd64-minimal', {
        profile: gentoo,
      }),
    ).rejects.toThrow(/symlink/)
    await expect(scanReleases(t.root, { profile: gentoo, under: '../etc' })).rejects.toBeInstanceOf(
      ReleaseError,
    )
    expect((await scanDirectory(t.root, 'gone/away', { profile: gentoo })).releases).toEqual([])
  })

  it('fails with a clear error when the root is not a directory', async () => {
    await expect(scanReleases('/nonexistent/mirror', { profile: gentoo })).rejects.toThrow(
      'mirror root /nonexistent/mirror is not a directory',
    )
  })
})

describe('scanReleases on a Debian tree', () => {
  it('gives each ISO the folder sums, skips bt-cd and the current symlink', async () => {
    const t = await tree(() => buildDebianTree())
    const { releases } = await scanReleases(t.root, { profile: debian })
    expect(summary(releases)).toEqual(layout(t))
    for (const r of releases) {
      expect(r.companions.map((c) => path.basename(c.path))).toEqual([
        'SHA256SUMS',
        'SHA256SUMS.sign',
        'SHA512SUMS',
        'SHA512SUMS.sign',
      ])
    }
  })

  it('keeps Debian torrents out under the generic profile as well', async () => {
    const t = await tree(() => buildDebianTree())
    const { releases } = await scanReleases(t.root, { profile: generic })
    expect(releases.map((r) => r.artifact.path)).toEqual(t.releases.map((r) => r.artifact))
  })
})

describe('scanReleases with entries it cannot read', () => {
  it('reports a name that is not UTF-8, escaped, and publishes its neighbours', async () => {
    const t = await tree(() => buildGentooTree())
    const dir = path.join(t.root, t.releases[0].releaseDir)
    // Latin-1 "café" (0xe9), as a mirror synced from an old host may hold.
    const bad = Buffer.concat([Buffer.from(dir + '/caf'), Buffer.from([0xe9]), Buffer.from('.iso')])
    await writeFile(bad, pseudoRandom(fixtureMinSize * 2, 9))
    const badDir = Buffer.concat([Buffer.from(t.root + '/old-'), Buffer.from([0xff])])
    await mkdir(badDir)
    const { releases, problems } = await scanReleases(t.root, { profile: gentoo })
    expect(summary(releases)).toEqual(layout(t))
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['old-\\xff', 'NOT_UTF8'],
      [`${t.releases[0].releaseDir}/caf\\xe9.iso`, 'NOT_UTF8'],
    ])
  })

  it('makes a symlink loop a problem of that entry', async () => {
    const t = await tree(() => buildGentooTree())
    const dir = path.join(t.root, t.releases[0].releaseDir)
    await symlink('loop-b.iso', path.join(dir, 'loop-a.iso'))
    await symlink('loop-a.iso', path.join(dir, 'loop-b.iso'))
    const { releases, problems } = await scanReleases(t.root, { profile: gentoo })
    expect(summary(releases)).toEqual(layout(t))
    expect(problems.map((p) => [path.posix.basename(p.path), p.code])).toEqual([
      ['loop-a.iso', 'ELOOP'],
      ['loop-b.iso', 'ELOOP'],
    ])
  })

  // A folder the service may not read (a root-owned lost+found) needs an unprivileged process:
  // CI runs as root, which reads every folder. test/deploy/unit.test.ts runs the appliance as
  // nobody over such a tree and checks the folder is that folder's problem, not the pass's.
})
