import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ready, startServe, type RunningServe } from './cli.ts'
import { treeArgs, buildGentooTree, type FixtureTree } from './fixtures/mirror-tree.ts'
import { tool } from './tools.ts'

const aria2c = tool('aria2c')

/**
 * aria2c on a metalink file. It follows a `<metaurl mediatype="torrent">` whatever
 * `--follow-torrent` says, and then checks pieces rather than the file's SHA-256: a test of the
 * `<url>` and `<hash>` elements takes the metaurls out first.
 */
function aria2cMetalink(metalink: string, out: string) {
  return spawnSync(
    'aria2c',
    [
      '--dir',
      out,
      '--seed-time=0',
      '--enable-dht=false',
      '--bt-enable-lpd=false',
      `--listen-port=${20000 + Math.floor(Math.random() * 40000)}`,
      '--file-allocation=none',
      '--summary-interval=0',
      '--console-log-level=warn',
      '--max-tries=1',
      '-M',
      metalink,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
}

describe.skipIf(!aria2c.found)(`metalinks read by a real client ${aria2c.reason}`, () => {
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

  function expectDownloaded(release: FixtureTree['releases'][number], out: string) {
    for (const p of [release.artifact, ...release.companions]) {
      const got = readFileSync(path.join(out, release.name, path.posix.basename(p)))
      expect(got.equals(readFileSync(path.join(tree.root, p)))).toBe(true)
    }
  }

  it('aria2c downloads a release from its metalink as served (the torrent it names)', async () => {
    const release = tree.releases[0]!
    const metalink = path.join(scratch, 'served.meta4')
    writeFileSync(metalink, await metalinkOf(release))
    const out = path.join(scratch, 'served')
    const run = aria2cMetalink(metalink, out)
    expect(run.status, run.stdout + run.stderr).toBe(0)
    expectDownloaded(release, out)
  })

  it('aria2c downloads every file from the web-seed URLs, checked by SHA-256', async () => {
    const release = tree.releases[1]!
    const metalink = path.join(scratch, 'http.meta4')
    writeFileSync(metalink, (await metalinkOf(release)).replace(/^.*<metaurl.*\n/gm, ''))
    const out = path.join(scratch, 'http')
    const run = aria2cMetalink(metalink, out)
    expect(run.status, run.stdout + run.stderr).toBe(0)
    expectDownloaded(release, out)
  })

  it('aria2c refuses a file whose bytes do not match the metalink SHA-256', async () => {
    const release = tree.releases[0]!
    const text = (await metalinkOf(release)).replace(/^.*<metaurl.*\n/gm, '')
    // The artifact's digest, flipped: aria2c must be checking the hash we publish.
    const tampered = text.replace(release.digests.sha256, 'f'.repeat(64))
    expect(tampered).not.toBe(text)
    const metalink = path.join(scratch, 'bad.meta4')
    writeFileSync(metalink, tampered)
    const run = aria2cMetalink(metalink, path.join(scratch, 'bad'))
    expect(run.status, run.stdout + run.stderr).not.toBe(0)
    expect(run.stdout).toMatch(/ERR/)
  })
})
