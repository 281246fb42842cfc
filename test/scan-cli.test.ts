import { afterEach, describe, expect, it } from 'vitest'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { runCli } from './cli.ts'
import { buildGentooTree, treeArgs, type FixtureTree } from './fixtures/mirror-tree.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const done of cleanup.splice(0)) await done()
})

/** Every `.torrent` under the tree's torrents folder: relative path -> bytes. */
function torrentsOf(root: string): Map<string, Buffer> {
  const dir = path.join(root, 'torrents')
  const found = new Map<string, Buffer>()
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.torrent')) continue
    const file = path.join(entry.parentPath, entry.name)
    found.set(path.relative(dir, file), readFileSync(file))
  }
  return found
}

describe('scan into a new data folder', { timeout: 120_000 }, () => {
  // A new embedded database is made while the releases are hashed (lib/publish/ahead.ts): what
  // it publishes must be what a scan into a database that already exists publishes.
  it('publishes the same torrents as a scan into an existing database', async () => {
    const tree: FixtureTree = await buildGentooTree()
    cleanup.push(() => tree.remove())
    const dataDirs = [0, 1].map(() => mkdtempSync(path.join(tmpdir(), 'mirrorseed-scan-data-')))
    cleanup.push(() => dataDirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

    const first = await runCli(['scan', ...treeArgs(tree), '--data-dir', dataDirs[0]])
    expect(first.stderr).not.toMatch(/error/i)
    expect(first.code).toBe(0)
    const fromNew = torrentsOf(tree.root)
    expect(fromNew.size).toBe(tree.releases.length)

    rmSync(path.join(tree.root, 'torrents'), { recursive: true })
    rmSync(path.join(tree.root, 'torrent-symlinks'), { recursive: true, force: true })
    const migrated = await runCli(['migrate', '--data-dir', dataDirs[1]])
    expect(migrated.code).toBe(0)
    const second = await runCli(['scan', ...treeArgs(tree), '--data-dir', dataDirs[1]])
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(`${tree.releases.length} published`)
    expect(torrentsOf(tree.root)).toEqual(fromNew)
  })
})

describe('scan over a tree with a bad entry', { timeout: 120_000 }, () => {
  it('prints the entry once, with its path, its code and what is wrong, and publishes the rest', async () => {
    const tree: FixtureTree = await buildGentooTree()
    cleanup.push(() => tree.remove())
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mirrorseed-scan-data-'))
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }))
    // A name that is not UTF-8 cannot go into a torrent: its folder's problem, not the pass's.
    writeFileSync(Buffer.concat([Buffer.from(`${tree.root}/bad`), Buffer.from([0xff])]), 'x')
    const run = await runCli(['scan', ...treeArgs(tree), '--data-dir', dataDir])
    expect(run.code).toBe(0)
    const problems = run.stdout.split('\n').filter((line) => line.startsWith('problem'))
    expect(problems).toEqual([
      'problem    bad\\xff: NOT_UTF8: the name is not UTF-8, so it cannot go into a torrent (BEP 3 paths are UTF-8)',
    ])
    expect(run.stdout).toContain(`${tree.releases.length} published`)
    expect(run.stdout).toContain('1 unreadable or unwritable')
  })
})
