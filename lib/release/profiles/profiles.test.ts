import { afterEach, describe, expect, it } from 'vitest'
import {
  buildAlpineTree,
  buildArchTree,
  buildFedoraTree,
  buildOpensuseTree,
  buildRockyTree,
  buildUbuntuTree,
  type DistributionTreeOptions,
} from '../../../test/fixtures/distributions.ts'
import {
  buildDebianTree,
  buildGentooTree,
  fixtureMinSize,
  type FixtureTree,
} from '../../../test/fixtures/mirror-tree.ts'
import {
  checkDigests,
  computeDigests,
  digestAlgorithms,
  ProfileSelector,
  readExpectedDigests,
  scanReleases,
  type Release,
} from '../index.ts'

const trees: FixtureTree[] = []
afterEach(async () => {
  await Promise.all(trees.splice(0).map((t) => t.remove()))
})

/** What `profile: auto` does with no pin: every folder's rules from its own files. */
const auto = new ProfileSelector({ profile: 'auto', overrides: { minSize: fixtureMinSize } })

async function scanned(build: () => Promise<FixtureTree>) {
  const t = await build()
  trees.push(t)
  return { t, scan: await scanReleases(t.root, { selector: auto }) }
}

function shape(releases: Release[]) {
  return releases.map((r) => ({
    releaseDir: r.releaseDir,
    name: r.name,
    artifact: r.artifact.path,
    companions: r.companions.map((c) => c.path),
  }))
}

function layout(t: FixtureTree) {
  return t.releases
    .map((r) => ({
      releaseDir: r.releaseDir,
      name: r.name,
      artifact: r.artifact,
      companions: r.companions,
    }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.artifact), Buffer.from(b.artifact)))
}

/** The publisher's check: every algorithm listed for the artifact is computed and compared. */
async function verify(release: Release) {
  const expected = await readExpectedDigests(release)
  const algorithms = digestAlgorithms.filter((a) => expected.artifact[a] !== undefined)
  const computed = {
    [release.artifact.path]: await computeDigests(release.artifact.absPath, algorithms),
  }
  return { algorithms, verification: checkDigests(release, expected, computed) }
}

const cases: Array<{
  profile: string
  build: (o?: DistributionTreeOptions) => Promise<FixtureTree>
  distribution: string
  /** Algorithms the distribution's checksum files list for each artifact. */
  algorithms: string[]
  /** File symlinks that must give no release. */
  symlinks: string[]
  corrupt: string
}> = [
  {
    profile: 'arch',
    build: buildArchTree,
    distribution: 'archlinux',
    algorithms: ['sha256', 'blake2b512'],
    symlinks: [
      'archlinux/iso/2026.11.01/archlinux-bootstrap-x86_64.tar.zst',
      'archlinux/iso/2026.11.01/archlinux-x86_64.iso',
    ],
    corrupt: 'archlinux-2026.11.01-x86_64.iso',
  },
  {
    profile: 'fedora',
    build: buildFedoraTree,
    distribution: 'fedora/linux',
    algorithms: ['sha256'],
    symlinks: [],
    corrupt: 'Fedora-Server-netinst-x86_64-43-1.6.iso',
  },
  {
    profile: 'fedora',
    build: buildRockyTree,
    distribution: 'rocky',
    algorithms: ['sha256'],
    symlinks: [
      'rocky/10.0/isos/x86_64/Rocky-x86_64-boot.iso',
      'rocky/10.0/isos/x86_64/Rocky-x86_64-minimal.iso',
    ],
    corrupt: 'Rocky-10.0-x86_64-minimal.iso',
  },
  {
    profile: 'ubuntu',
    build: buildUbuntuTree,
    distribution: 'ubuntu-releases',
    algorithms: ['sha256'],
    symlinks: [],
    corrupt: 'ubuntu-24.04.3-live-server-amd64.iso',
  },
  {
    profile: 'opensuse',
    build: buildOpensuseTree,
    distribution: 'opensuse',
    algorithms: ['sha256'],
    symlinks: [
      'opensuse/distribution/leap/15.6/iso/openSUSE-Leap-15.6-DVD-x86_64-Current.iso',
      'opensuse/distribution/leap/15.6/iso/openSUSE-Leap-15.6-NET-x86_64-Current.iso',
    ],
    corrupt: 'openSUSE-Leap-15.6-DVD-x86_64-Build710.3-Media.iso',
  },
  {
    profile: 'alpine',
    build: buildAlpineTree,
    distribution: 'alpine',
    algorithms: ['sha256', 'sha512'],
    symlinks: [],
    corrupt: 'alpine-minirootfs-3.22.2-x86_64.tar.gz',
  },
]

for (const c of cases) {
  describe(`${c.profile} (${c.distribution})`, () => {
    it('is recognised by its layout: one release per artifact with its own companions', async () => {
      const { t, scan } = await scanned(() => c.build())
      expect(shape(scan.releases)).toEqual(layout(t))
      for (const r of scan.releases) {
        expect(r).toMatchObject({
          profile: c.profile,
          how: 'detected',
          distributionRoot: c.distribution,
        })
      }
    })

    it("makes no release of a file symlink, nor of the distribution's own files", async () => {
      const { scan } = await scanned(() => c.build())
      const ignoredLinks = scan.ignored
        .filter((i) => i.reason === 'symlink to a file in the tree')
        .map((i) => i.path)
      expect(ignoredLinks).toEqual(c.symlinks)
      const names = scan.releases.flatMap((r) => [
        r.artifact.path,
        ...r.companions.map((f) => f.path),
      ])
      expect(names.filter((n) => /\.(torrent|zsync|list|manifest|img|sfs)$/.test(n))).toEqual([])
    })

    it('verifies every artifact against every checksum file listing it', async () => {
      const { scan } = await scanned(() => c.build())
      for (const release of scan.releases) {
        const { algorithms, verification } = await verify(release)
        expect(algorithms).toEqual(c.algorithms)
        expect(verification.status).toBe('verified')
      }
    })

    it('fails the artifact a listed checksum contradicts, and only that one', async () => {
      const { scan } = await scanned(() => c.build({ corrupt: c.corrupt }))
      for (const release of scan.releases) {
        const { verification } = await verify(release)
        const damaged = release.artifact.path.endsWith(`/${c.corrupt}`)
        expect(verification.status).toBe(damaged ? 'failed' : 'verified')
      }
    })
  })
}

describe('Gentoo and Debian under auto', () => {
  it('get the rules their pinned profiles give', async () => {
    const gentoo = await scanned(() => buildGentooTree())
    expect(shape(gentoo.scan.releases)).toEqual(layout(gentoo.t))
    expect(new Set(gentoo.scan.releases.map((r) => `${r.profile} ${r.distributionRoot}`))).toEqual(
      new Set(['gentoo ']),
    )
    const debian = await scanned(() => buildDebianTree())
    expect(shape(debian.scan.releases)).toEqual(layout(debian.t))
    expect(new Set(debian.scan.releases.map((r) => `${r.profile} ${r.distributionRoot}`))).toEqual(
      new Set(['debian debian-cd']),
    )
  })
})
