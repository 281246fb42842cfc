import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  rmdir,
  writeFile,
} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildGentooTree, type FixtureTree } from '../../test/fixtures/mirror-tree.ts'
import { tool } from '../../test/tools.ts'
import { resolveProfile, scanReleases } from '../release/index.ts'
import { watchMirror, type DirtyContext, type MirrorWatcher } from './index.ts'

const rsync = tool('rsync')

interface Call {
  dirs: string[]
  context: DirtyContext
  at: number
}

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function watched(
  root: string,
  options: Partial<Parameters<typeof watchMirror>[0]> = {},
  onCall?: (call: Call) => Promise<void>,
): Promise<{ watcher: MirrorWatcher; calls: Call[] }> {
  const calls: Call[] = []
  const watcher = await watchMirror({
    root,
    quietMs: 200,
    maxWaitMs: 5_000,
    stableMs: 200,
    reconcileMs: 0,
    deferPollMs: 100,
    ...options,
    onDirty: async (dirs, context) => {
      const call = { dirs, context, at: Date.now() }
      calls.push(call)
      await onCall?.(call)
    },
  })
  cleanup.push(() => watcher.close())
  return { watcher, calls }
}

/** Polls `done` every 50 ms, for at most `ms`. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
}

/** inotify watches held by this process (Linux: one `inotify wd:` line per watch in fdinfo). */
async function inotifyWatches(): Promise<number> {
  let count = 0
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '')
    if (target !== 'anon_inode:inotify') continue
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '')
    count += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length
  }
  return count
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${stderr}`)),
    )
  })
}

describe.skipIf(!rsync.found)(`rsync into a watched tree ${rsync.reason}`, () => {
  const profile = resolveProfile('gentoo', { minSize: 64 * 1024 })

  // Each mode copies two artifacts of a few MiB at a limited rate, so the copy takes a couple of
  // seconds during which the watcher is free to fire (maxWaitMs is short on purpose).
  for (const mode of [[], ['--delay-updates'], ['--inplace']]) {
    it(`fires after the copy with ${mode[0] ?? 'default mode'}, never on a partial file`, async () => {
      const source: FixtureTree = await buildGentooTree({
        sizes: { iso: 3 * 1024 * 1024, stage3: 2 * 1024 * 1024 },
      })
      cleanup.push(() => source.remove())
      const root = await tempDir('mirrorseed-watch-')
      const expected = new Map(source.releases.map((r) => [r.artifact, r]))
      const seen: { path: string; complete: boolean }[] = []

      // A second of stillness (the default is 2 s): rsync's --bwlimit sleeps between writes, and on
      // a loaded machine longer; at 200 ms an --inplace copy once looked finished midway.
      const { calls } = await watched(root, { maxWaitMs: 600, stableMs: 1_000 }, async () => {
        // What the publisher would do at this moment: scan, then read every artifact it found.
        const { releases } = await scanReleases(root, { profile })
        for (const r of releases) {
          const data = await readFile(r.artifact.absPath)
          const sha256 = createHash('sha256').update(data).digest('hex')
          seen.push({
            path: r.artifact.path,
            complete: sha256 === expected.get(r.artifact.path)?.digests.sha256,
          })
        }
      })

      await run('rsync', ['-a', '--bwlimit=2500', ...mode, `${source.root}/`, `${root}/`])
      const copied = Date.now()
      const all = (): boolean =>
        [...expected.keys()].every((p) => seen.some((s) => s.path === p && s.complete)) &&
        calls.some((c) => c.at >= copied)
      await until(all, 10_000)

      expect(seen.filter((s) => !s.complete)).toEqual([])
      expect(all()).toBe(true)
      expect(calls.flatMap((c) => c.dirs)).toContain(source.releases[0].releaseDir)
      expect(
        calls.flatMap((c) => c.dirs).some((d) => d.includes('.~tmp~') || d.includes('/.')),
      ).toBe(false)
    })
  }
})

describe('watchMirror', () => {
  it('collects a burst of changes into one call naming the changed directories', async () => {
    const root = await tempDir('mirrorseed-watch-')
    await mkdir(path.join(root, 'a/b'), { recursive: true })
    const { calls } = await watched(root)
    await writeFile(path.join(root, 'a/b/one.iso'), 'x')
    await writeFile(path.join(root, 'a/two.iso'), 'y')
    await until(() => calls.length > 0, 5_000)
    await new Promise((r) => setTimeout(r, 600))
    expect(calls).toHaveLength(1)
    expect(calls[0].dirs).toEqual(['a', 'a/b'])
    expect(calls[0].context).toEqual({ reason: 'change', full: false })
  })

  it('sees a directory created with its files, and the removal of one', async () => {
    const root = await tempDir('mirrorseed-watch-')
    const { calls } = await watched(root)
    await mkdir(path.join(root, 'r/20261118T000000Z'), { recursive: true })
    await writeFile(path.join(root, 'r/20261118T000000Z/x.iso'), 'x')
    await until(() => calls.flatMap((c) => c.dirs).includes('r/20261118T000000Z'), 5_000)
    expect(calls.flatMap((c) => c.dirs)).toEqual(
      expect.arrayContaining(['r', 'r/20261118T000000Z']),
    )
    const before = calls.length
    await rm(path.join(root, 'r/20261118T000000Z'), { recursive: true })
    await until(() => calls.length > before, 5_000)
    expect(calls.slice(before).flatMap((c) => c.dirs)).toContain('r')
  })

  it('ignores dot paths, rsync temp names and our output folders', async () => {
    const root = await tempDir('mirrorseed-watch-')
    await mkdir(path.join(root, 'torrents/r'), { recursive: true })
    await mkdir(path.join(root, 'torrent-symlinks/r/x'), { recursive: true })
    await mkdir(path.join(root, 'r'))
    const { calls } = await watched(root)
    await writeFile(path.join(root, 'torrents/r/x.torrent'), 'd4:infodee')
    await writeFile(path.join(root, 'torrent-symlinks/r/x/f'), 'f')
    await writeFile(path.join(root, 'r/.x.iso.AbC123'), 'partial')
    await mkdir(path.join(root, 'r/.~tmp~'))
    await writeFile(path.join(root, 'r/.~tmp~/x.iso'), 'staged')
    await mkdir(path.join(root, 'torrents/new'))
    await new Promise((r) => setTimeout(r, 1_000))
    expect(calls).toEqual([])
    // The rename to the final name is the event that counts.
    await rename(path.join(root, 'r/.x.iso.AbC123'), path.join(root, 'r/x.iso'))
    await until(() => calls.length > 0, 5_000)
    expect(calls.map((c) => c.dirs)).toEqual([['r']])
  })

  it('waits while an --inplace write keeps growing the file', async () => {
    const root = await tempDir('mirrorseed-watch-')
    const { calls } = await watched(root, { maxWaitMs: 300, stableMs: 300 })
    const file = path.join(root, 'growing.iso')
    const started = Date.now()
    // One append every 100 ms for 1.5 s: events never stop, and sizes never hold still.
    for (let i = 0; i < 15; i++) {
      await writeFile(file, Buffer.alloc(64 * 1024, i), { flag: 'a' })
      await new Promise((r) => setTimeout(r, 100))
    }
    const finished = Date.now()
    await until(() => calls.length > 0, 5_000)
    expect(finished - started).toBeGreaterThan(1_400)
    expect(calls.length).toBeGreaterThan(0)
    expect(calls[0].at).toBeGreaterThanOrEqual(finished)
  })

  it('fires after maxWaitMs when events never stop but files hold still', async () => {
    const root = await tempDir('mirrorseed-watch-')
    const { calls } = await watched(root, { quietMs: 400, maxWaitMs: 800 })
    const started = Date.now()
    // Directories come and go every 100 ms for 3 s: never 400 ms of quiet.
    for (let i = 0; i < 30 && calls.length === 0; i++) {
      await mkdir(path.join(root, `d${i}`))
      if (i > 0) await rmdir(path.join(root, `d${i - 1}`))
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(calls.length).toBeGreaterThan(0)
    expect(calls[0].at - started).toBeLessThan(2_500)
  })

  it('holds work while ftpsync marks an update in progress', async () => {
    const root = await tempDir('mirrorseed-watch-')
    await writeFile(path.join(root, 'Archive-Update-in-Progress-mirror.example.org'), '')
    const { calls } = await watched(root)
    await mkdir(path.join(root, 'pool'))
    await writeFile(path.join(root, 'pool/x.iso'), 'x')
    await new Promise((r) => setTimeout(r, 1_000))
    expect(calls).toEqual([])
    const removed = Date.now()
    await rm(path.join(root, 'Archive-Update-in-Progress-mirror.example.org'))
    await until(() => calls.length > 0, 5_000)
    expect(calls[0].dirs).toContain('pool')
    expect(calls[0].at - removed).toBeLessThan(2_000)
  })

  it('runs a full pass on request and on the reconcile timer', async () => {
    const root = await tempDir('mirrorseed-watch-')
    const requested = await watched(root)
    requested.watcher.rescan()
    await until(() => requested.calls.length > 0, 5_000)
    expect(requested.calls[0]).toMatchObject({
      dirs: [''],
      context: { reason: 'request', full: true },
    })
    requested.watcher.rescan('some/dir/')
    await until(() => requested.calls.length > 1, 5_000)
    expect(requested.calls[1]).toMatchObject({
      dirs: ['some/dir'],
      context: { reason: 'request', full: false },
    })

    expect(() => requested.watcher.rescan('../etc')).toThrow(
      'rescan path ../etc is outside the watched tree',
    )
    expect(() => requested.watcher.rescan('torrents/x')).toThrow(/outside/)

    const timed = await watched(root, { reconcileMs: 300 })
    await until(() => timed.calls.length >= 2, 5_000)
    expect(timed.calls.slice(0, 2).map((c) => c.context)).toEqual([
      { reason: 'reconcile', full: true },
      { reason: 'reconcile', full: true },
    ])
  })

  it.skipIf(process.platform !== 'linux')(
    'puts one inotify watch on each directory, none on files',
    async () => {
      const root = await tempDir('mirrorseed-watch-')
      for (let d = 0; d < 4; d++) {
        await mkdir(path.join(root, `d${d}`))
        await Promise.all(
          Array.from({ length: 250 }, (_, f) =>
            writeFile(path.join(root, `d${d}`, `f${f}.iso`), 'x'),
          ),
        )
      }
      await mkdir(path.join(root, '.~tmp~'))
      const before = await inotifyWatches()
      await watched(root)
      // The root and its four directories; not the 1,000 files, not the dot folder.
      expect((await inotifyWatches()) - before).toBe(5)
    },
  )

  it('stops calling after close()', async () => {
    const root = await tempDir('mirrorseed-watch-')
    const { watcher, calls } = await watched(root)
    await writeFile(path.join(root, 'x.iso'), 'x')
    await watcher.close()
    await new Promise((r) => setTimeout(r, 600))
    expect(calls).toEqual([])
  })
})
