import { afterEach, describe, expect, it } from 'vitest'
import { appendFileSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseTorrent } from '../metainfo/index.ts'
import { databaseKinds } from '../../test/databases.ts'
import {
  buildGentooTree,
  fixtureConfig,
  type FixtureTree,
} from '../../test/fixtures/mirror-tree.ts'
import { fingerprintOf } from './build.ts'
import { HashAhead, outputLayout, Publisher, walkTree } from './index.ts'

const trees: FixtureTree[] = []
afterEach(async () => {
  for (const tree of trees.splice(0)) await tree.remove()
})

const [, pglite] = databaseKinds[0]

/** A Gentoo fixture tree, walked, with every release of it built ahead. */
async function builtAhead() {
  const tree = await buildGentooTree()
  trees.push(tree)
  const config = fixtureConfig(tree.root)
  const walked = walkTree(config)
  const ahead = new HashAhead(config, outputLayout(config), walked)
  const { releases } = await walked
  await ahead.done
  return { tree, config, ahead, releases }
}

describe('hashing ahead while a new database opens', () => {
  it('the pass takes what was built ahead, and builds itself what changed since', async () => {
    const { tree, config, ahead, releases } = await builtAhead()
    const took: string[] = []
    const take = ahead.take.bind(ahead)
    ahead.take = (...args) => {
      const built = take(...args)
      if (built) took.push(args[0])
      return built
    }
    // The second release's artifact grows after it was hashed ahead: the pass sees other files,
    // and must not publish the bytes hashed before.
    const grown = releases[1]
    appendFileSync(grown.artifact.absPath, 'more bytes')
    const database = await pglite.open()
    try {
      const summary = await new Publisher({ config, database, ahead }).reconcile()
      // The digest no longer matches the grown artifact: the pass hashed it itself.
      expect(summary.failed.map((f) => f.name)).toEqual([grown.name])
      expect(summary.published.map((p) => p.name).sort()).toEqual(
        releases
          .filter((r) => r !== grown)
          .map((r) => r.name)
          .sort(),
      )
      // What was built ahead was used, not hashed again.
      expect(took.sort()).toEqual(
        releases
          .filter((r) => r !== grown)
          .map((r) => fingerprintOf([r.artifact, ...r.companions]))
          .sort(),
      )
      for (const p of summary.published) {
        const file = path.join(tree.root, 'torrents', p.releaseDir, `${p.name}.torrent`)
        expect(parseTorrent(readFileSync(file)).infoHash?.toString('hex')).toBe(p.infoHash)
      }
    } finally {
      await database.close()
    }
  })

  it('is not taken for other inputs: a mirror to name as web seed, other digests', async () => {
    const { ahead, releases } = await builtAhead()
    const [release] = releases
    const fingerprint = fingerprintOf([release.artifact, ...release.companions])
    const mirror = { name: 'm', baseUrl: 'http://192.0.2.1/gentoo/' }
    expect(ahead.take(fingerprint, ['sha256'], [mirror])).toBeUndefined()
    expect(ahead.take(fingerprint, ['sha512'], [])).toBeUndefined()
    const built = await ahead.take(fingerprint, ['sha256'], [])
    expect(built && 'torrent' in built ? built.torrent.name : built).toBe(release.name)
  })
})
