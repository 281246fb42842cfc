import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  buildDebianTree,
  buildGentooTree,
  fixtureMinSize,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import {
  checkDigests,
  computeDigests,
  preferredAlgorithm,
  readExpectedDigests,
  resolveProfile,
  scanReleases,
  type Release,
} from './index.ts'

const trees: FixtureTree[] = []
afterEach(async () => {
  await Promise.all(trees.splice(0).map((t) => t.remove()))
})

async function scanned(build: () => Promise<FixtureTree>, profile: 'gentoo' | 'debian') {
  const t = await build()
  trees.push(t)
  const { releases } = await scanReleases(t.root, {
    profile: resolveProfile(profile, { minSize: fixtureMinSize }),
  })
  return { t, releases }
}

/** What the publisher does: hash every file of the release in the preferred algorithm. */
async function verify(release: Release) {
  const expected = await readExpectedDigests(release)
  const computed: Record<string, Record<string, string>> = {}
  for (const file of [release.artifact, ...release.companions]) {
    const algorithm = preferredAlgorithm(expected.files[file.path] ?? {})
    if (algorithm) computed[file.path] = await computeDigests(file.absPath, [algorithm])
  }
  return { expected, verification: checkDigests(release, expected, computed) }
}

describe('expected digests of a Gentoo release', () => {
  it('lists SHA-256, SHA-512 and BLAKE2B of the artifact from .sha256 and .DIGESTS', async () => {
    const { t, releases } = await scanned(() => buildGentooTree(), 'gentoo')
    for (const [i, release] of releases.entries()) {
      const expected = await readExpectedDigests(release)
      expect(expected.artifact).toEqual(t.releases[i].digests)
      expect(preferredAlgorithm(expected.artifact)).toBe('sha256')
      expect(Object.keys(expected.files)).toContain(`${release.artifact.path}.CONTENTS.gz`)
    }
  })

  it('verifies an intact release, artifact and CONTENTS alike', async () => {
    const { releases } = await scanned(() => buildGentooTree(), 'gentoo')
    for (const release of releases) {
      const { verification } = await verify(release)
      expect(verification.status).toBe('verified')
      if (verification.status === 'verified') {
        expect(verification.checked.map((c) => c.path)).toContain(release.artifact.path)
      }
    }
  })

  it('fails a corrupted artifact, naming the file and the algorithm, and only that one', async () => {
    const { t, releases } = await scanned(() => buildGentooTree({ corrupt: 'stage3' }), 'gentoo')
    const bad = t.releases.find((r) => r.corrupted)?.artifact
    for (const release of releases) {
      const { verification } = await verify(release)
      if (release.artifact.path === bad) {
        expect(verification.status).toBe('failed')
        if (verification.status === 'failed') {
          expect(verification.message).toBe(
            `sha256 of ${bad} does not match the one listed in ${bad}.sha256`,
          )
        }
      } else {
        expect(verification.status).toBe('verified')
      }
    }
  })

  it('checks every algorithm it is given, not only the preferred one', async () => {
    const { releases } = await scanned(() => buildGentooTree(), 'gentoo')
    const release = releases[0]
    const expected = await readExpectedDigests(release)
    const good = await computeDigests(release.artifact.absPath, ['sha256', 'blake2b512'])
    const wrongBlake = { ...good, blake2b512: '00'.repeat(64) }
    const v = checkDigests(release, expected, { [release.artifact.path]: wrongBlake })
    expect(v.status).toBe('failed')
    expect(v.status === 'failed' && v.failures.map((f) => f.algorithm)).toEqual(['blake2b512'])
  })

  it('calls a release with no digest file unverified, and one with conflicting lists failed', async () => {
    const { releases } = await scanned(() => buildGentooTree(), 'gentoo')
    const release = releases[0]
    const bare: Release = {
      ...release,
      companions: release.companions.filter((c) => /\.(asc|gz)$/.test(c.path)),
    }
    const digests = await computeDigests(release.artifact.absPath, ['sha256'])
    const unverified = checkDigests(bare, await readExpectedDigests(bare), {
      [release.artifact.path]: digests,
    })
    expect(unverified).toEqual({
      status: 'unverified',
      message: `no digest of ${release.artifact.path} is listed`,
    })

    const sha256File = release.companions.find((c) => c.path.endsWith('.sha256'))!
    await writeFile(
      sha256File.absPath,
      `${'1'.repeat(64)}  ${path.basename(release.artifact.path)}\n${digests.sha256}  ${path.basename(release.artifact.path)}\n`,
    )
    const conflicting = checkDigests(release, await readExpectedDigests(release), {
      [release.artifact.path]: digests,
    })
    expect(conflicting.status).toBe('failed')
    expect(conflicting.status === 'failed' && conflicting.message).toContain(
      'different sha256 digests',
    )
  })
})

describe('expected digests of a Debian release', () => {
  it('takes each ISO line from the folder sums and verifies both ISOs', async () => {
    const { t, releases } = await scanned(() => buildDebianTree(), 'debian')
    for (const [i, release] of releases.entries()) {
      const expected = await readExpectedDigests(release)
      expect(expected.artifact).toEqual({
        sha256: t.releases[i].digests.sha256,
        sha512: t.releases[i].digests.sha512,
      })
      expect((await verify(release)).verification.status).toBe('verified')
    }
  })

  it('holds back the corrupted ISO while its neighbour verifies', async () => {
    const { t, releases } = await scanned(() => buildDebianTree({ corrupt: 'edu' }), 'debian')
    const statuses = await Promise.all(
      releases.map(async (r) => (await verify(r)).verification.status),
    )
    expect(statuses).toEqual(t.releases.map((r) => (r.corrupted ? 'failed' : 'verified')))
  })
})
