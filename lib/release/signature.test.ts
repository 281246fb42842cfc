import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildDebianTree,
  buildGentooTree,
  fixtureMinSize,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { tool } from '../../test/tools.ts'
import { resolveProfile, scanReleases, verifySignatures } from './index.ts'

const gpg = tool('gpg')
const gpgv = tool('gpgv')

describe.skipIf(!gpg.found || !gpgv.found)(`gpgv signatures ${gpg.reason}${gpgv.reason}`, () => {
  let home: string
  let keyring: string
  const trees: FixtureTree[] = []
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, GNUPGHOME: home })
  const sign = (args: string[]): void => {
    execFileSync(
      'gpg',
      ['--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
      {
        env: env(),
        stdio: 'ignore',
      },
    )
  }

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ms-gpg-'))
    sign([
      '--quick-gen-key',
      'Release Engineering <releng@example.org>',
      'ed25519',
      'sign',
      'never',
    ])
    keyring = path.join(home, 'release-keys.gpg')
    execFileSync('gpg', ['--batch', '--yes', '--output', keyring, '--export'], { env: env() })
  })
  afterAll(async () => {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: env(), stdio: 'ignore' })
    await Promise.all(trees.map((t) => t.remove()))
    await rm(home, { recursive: true, force: true })
  })

  async function gentoo(signArtifacts: boolean) {
    const t = await buildGentooTree()
    trees.push(t)
    if (signArtifacts) {
      for (const r of t.releases) {
        const artifact = path.join(t.root, r.artifact)
        sign(['--armor', '--detach-sign', '--output', `${artifact}.asc`, artifact])
      }
    }
    const { releases } = await scanReleases(t.root, {
      profile: resolveProfile('gentoo', { minSize: fixtureMinSize }),
    })
    return { t, releases }
  }

  it('verifies Gentoo artifacts signed by a key of the keyring', async () => {
    const { releases } = await gentoo(true)
    for (const release of releases) {
      const result = await verifySignatures(release, keyring)
      expect(result).toEqual({
        status: 'verified',
        checks: [
          { signature: `${release.artifact.path}.asc`, signed: release.artifact.path, ok: true },
        ],
      })
    }
  })

  it('fails an artifact changed after signing, and a signature that is no signature', async () => {
    const { releases } = await gentoo(true)
    await writeFile(releases[0].artifact.absPath, 'replaced')
    const changed = await verifySignatures(releases[0], keyring)
    expect(changed.status).toBe('failed')
    expect(changed.status === 'failed' && changed.message).toBe(
      `signature ${releases[0].artifact.path}.asc does not verify ${releases[0].artifact.path}`,
    )
    const fake = await gentoo(false)
    expect((await verifySignatures(fake.releases[0], keyring)).status).toBe('failed')
  })

  it('checks a clearsigned DIGESTS.asc on its own', async () => {
    const { t, releases } = await gentoo(true)
    const release = releases[0]
    const digests = release.companions.find((c) => c.path.endsWith('.DIGESTS'))!
    sign(['--clearsign', '--output', `${digests.absPath}.asc`, digests.absPath])
    const { releases: rescanned } = await scanReleases(t.root, {
      profile: resolveProfile('gentoo', { minSize: fixtureMinSize }),
    })
    const withAsc = rescanned.find((r) => r.artifact.path === release.artifact.path)!
    const result = await verifySignatures(withAsc, keyring)
    expect(result.status).toBe('verified')
    expect(result.status === 'verified' && result.checks.map((c) => c.signed)).toContain(
      `${digests.path}.asc`,
    )
  })

  it('verifies Debian sums signatures, and says unsigned when there are none', async () => {
    const t = await buildDebianTree()
    trees.push(t)
    const dir = path.join(t.root, t.releases[0].releaseDir)
    for (const sums of ['SHA256SUMS', 'SHA512SUMS']) {
      sign([
        '--armor',
        '--detach-sign',
        '--output',
        path.join(dir, `${sums}.sign`),
        path.join(dir, sums),
      ])
    }
    const { releases } = await scanReleases(t.root, {
      profile: resolveProfile('debian', { minSize: fixtureMinSize }),
    })
    const result = await verifySignatures(releases[0], keyring)
    expect(
      result.status === 'verified' && result.checks.map((c) => path.basename(c.signed)),
    ).toEqual(['SHA256SUMS', 'SHA512SUMS'])
    const bare = {
      ...releases[0],
      companions: releases[0].companions.filter((c) => !c.path.endsWith('.sign')),
    }
    expect(await verifySignatures(bare, keyring)).toEqual({
      status: 'unsigned',
      message: `no signature of ${releases[0].artifact.path} is present`,
    })
  })
})
