import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ready, startServe, type RunningServe } from './cli.ts'
import { treeArgs, buildGentooTree, type FixtureTree } from './fixtures/mirror-tree.ts'
import { aria2c, sameAsTree } from './aria2c.ts'
import { tool } from './tools.ts'

const aria2cTool = tool('aria2c')

/**
 * aria2c on a metalink file. It follows a `<metaurl mediatype="torrent">` whatever
 * `--follow-torrent` says, and then checks pieces rather than the file's SHA-256: a test of the
 * `<url>` and `<hash>` elements takes the metaurls out first.
 */
function aria2cMetalink(metalink: string, out: string) {
  return aria2c(metalink, out, ['--max-tries=1', '-M'], 60_000)
}

describe.skipIf(!aria2cTool.found)(`metalinks read by a real client ${aria2cTool.reason}`, () => {
  let tree: FixtureTree
  let dataDir: string
  let serve: RunningServe
  let scratch: string

  beforeAll(async () => {
    tree = await buildGentooTree()
    dataDir = mkdtempSync(path.join(tmpdir(), 'mirrorseed-web-'))
    scratch = mkdtempSync(path.join(tmpdir(), 'mirrorseed-meta4-'))
    serve = await startServe([...treeArgs(tree), '--data-dir', dataDir])
    await ready(serve)
  }, 120_000)

  afterAll(async () => {
    await serve?.stop('SIGKILL')
    await tree?.remove()
    for (const dir of [dataDir, scratch]) if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function metalinkOf(release: FixtureTree['releases'][number]): Promise<string> {
    const res = await fetch(`${serve.url}/metalink/${release.releaseDir}/${release.name}.meta4`)
    expect(res.status).toBe(200)
    return res.text()
  }

  it('aria2c downloads a release from its metalink as served (the torrent it names)', async () => {
    const release = tree.releases[0]!
    const metalink = path.join(scratch, 'served.meta4')
    writeFileSync(metalink, await metalinkOf(release))
    const out = path.join(scratch, 'served')
    const run = await aria2cMetalink(metalink, out)
    expect(run.code, run.output).toBe(0)
    expect(sameAsTree(out, tree.root, release)).toBe(true)
  })

  it('aria2c downloads every file from the web-seed URLs, checked by SHA-256', async () => {
    const release = tree.releases[1]!
    const metalink = path.join(scratch, 'http.meta4')
    writeFileSync(metalink, (await metalinkOf(release)).replace(/^.*<metaurl.*\n/gm, ''))
    const out = path.join(scratch, 'http')
    const run = await aria2cMetalink(metalink, out)
    expect(run.code, run.output).toBe(0)
    expect(sameAsTree(out, tree.root, release)).toBe(true)
  })

  it('aria2c refuses a file whose bytes do not match the metalink SHA-256', async () => {
    const release = tree.releases[0]!
    const text = (await metalinkOf(release)).replace(/^.*<metaurl.*\n/gm, '')
    // The artifact's digest, flipped: aria2c must be checking the hash we publish.
    const tampered = text.replace(release.digests.sha256, 'f'.repeat(64))
    expect(tampered).not.toBe(text)
    const metalink = path.join(scratch, 'bad.meta4')
    writeFileSync(metalink, tampered)
    const run = await aria2cMetalink(metalink, path.join(scratch, 'bad'))
    expect(run.code, run.output).not.toBe(0)
    expect(run.output).toMatch(/ERR/)
  })
})
