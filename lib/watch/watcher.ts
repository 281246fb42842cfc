import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import type { Config } from '../config/index.ts'
import { log } from '../log/index.ts'
import { heldStill, snapshot, updateInProgress, updateInProgressPrefix } from './stability.ts'

export class WatchError extends Error {
  readonly code: 'BAD_PATH'

  constructor(code: 'BAD_PATH', message: string) {
    super(message)
    this.name = 'WatchError'
    this.code = code
  }
}

export type DirtyReason = 'change' | 'reconcile' | 'request'

export interface DirtyContext {
  reason: DirtyReason
  /** Walk the whole tree: `dirs` is `['']`. Otherwise scan each dir alone, not recursively. */
  full: boolean
}

export interface WatchOptions {
  /** The mirror root. */
  root: string
  /**
   * Called with the directories (posix, relative to the root, `''` for the root) whose entries
   * changed, once they are quiet and stable. Never called twice at once.
   */
  onDirty: (dirs: string[], context: DirtyContext) => void | Promise<void>
  /** Quiet time after the last event before work starts (config `watch.quietSeconds`). */
  quietMs?: number
  /** A tree that never goes quiet is looked at after this long all the same. */
  maxWaitMs?: number
  /** Sizes and mtimes must stay unchanged this long, so an `--inplace` write is not cut. */
  stableMs?: number
  /** A full reconcile this often, the safety net for missed events; 0 turns it off. */
  reconcileMs?: number
  /** How often to look again while ftpsync's `Archive-Update-in-Progress-*` is there. */
  deferPollMs?: number
  /** Our output folders, relative to the root: what we write there is no news. */
  outputDirs?: string[]
}

export interface MirrorWatcher {
  /**
   * Ask for a pass now (still after stability and ftpsync); no `dir` means the whole tree.
   * Throws {@link WatchError} `BAD_PATH` for `..`, dot folders and our output folders.
   */
  rescan(dir?: string): void
  close(): Promise<void>
}

const defaults = {
  quietMs: 10_000,
  maxWaitMs: 300_000,
  stableMs: 2_000,
  reconcileMs: 3_600_000,
  deferPollMs: 5_000,
  outputDirs: ['torrents', 'torrent-symlinks'],
}

/**
 * Watches a mirror tree for new and changed releases, one inotify watch per directory.
 *
 * chokidar would put a watcher on every file as well; its `ignored` test sees each entry's stats,
 * so files are ignored there and changes to them are read from the directory watchers' `raw`
 * events (inotify reports a child's writes and renames on its directory). rsync writes
 * `.NAME.XXXXXX` and renames it (or stages in `.~tmp~/` with `--delay-updates`), so events on
 * dot-names are dropped and the final rename is what marks a directory dirty; `--inplace` writes
 * the real name, which the stability check covers.
 *
 * @example
 * const watcher = await watchMirror({ root, onDirty: (dirs, { full }) => publisher.scan(dirs, full) })
 * process.on('SIGTERM', () => watcher.close())
 */
export async function watchMirror(options: WatchOptions): Promise<MirrorWatcher> {
  const root = await realpath(options.root)
  const settings = { ...defaults, ...definedOnly(options) }
  const outputDirs = new Set(settings.outputDirs)

  const relative = (p: string): string => {
    const rel = path.relative(root, p)
    return rel.split(path.sep).join('/')
  }
  // A plain output name is ours at any depth: each distribution's subtree may hold a pair.
  const ignoredPath = (rel: string): boolean =>
    rel !== '' &&
    (rel.startsWith('..') ||
      rel.split('/').some((segment) => segment.startsWith('.') || outputDirs.has(segment)) ||
      [...outputDirs].some((out) => rel === out || rel.startsWith(`${out}/`)))

  const queue = new DirtyQueue(root, settings, options.onDirty)

  const watcher: FSWatcher = watch(root, {
    persistent: true,
    ignoreInitial: true,
    // `current -> 13.2.0` would watch, and report, one directory twice.
    followSymlinks: false,
    // No editor-save smoothing: it delays events and knows nothing of rsync.
    atomic: false,
    // A folder we may not read (a root-owned lost+found) is skipped, not an error: the scan
    // reports it as that folder's problem, once.
    ignorePermissionErrors: true,
    // Directories only: a watcher per file does not scale to a mirror of 100k files.
    ignored: (p: string, stats?: { isDirectory(): boolean }) =>
      ignoredPath(relative(p)) || (stats !== undefined && !stats.isDirectory()),
  })

  watcher.on('raw', (_event: string, name: string | null, details: unknown) => {
    const watched = (details as { watchedPath?: string } | undefined)?.watchedPath
    if (watched === undefined) return
    const dir = relative(watched)
    if (ignoredPath(dir)) return
    if (name !== null && name !== '') {
      if (name.startsWith('.')) return
      if (outputDirs.has(name)) return
      if (dir === '' && name.startsWith(updateInProgressPrefix)) {
        // The end of an ftpsync run is the moment to look again.
        queue.poke()
        return
      }
    }
    queue.mark(dir)
  })
  // A new directory may fill before its own watch exists: scan it as well as its parent.
  watcher.on('addDir', (p: string) => {
    const rel = relative(p)
    if (ignoredPath(rel)) return
    queue.mark(rel)
    queue.mark(parent(rel))
  })
  watcher.on('unlinkDir', (p: string) => {
    const rel = relative(p)
    if (!ignoredPath(rel)) queue.mark(parent(rel))
  })
  watcher.on('error', (error: unknown) => {
    // ENOSPC (inotify watches exhausted) and the like: the reconcile timer still covers us.
    log.warn('watch error', { root, error })
  })
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()))

  const reconcile =
    settings.reconcileMs > 0
      ? setInterval(() => queue.requestFull('reconcile'), settings.reconcileMs)
      : undefined

  return {
    rescan(dir?: string): void {
      const rel = (dir ?? '')
        .split('/')
        .filter((s) => s !== '' && s !== '.')
        .join('/')
      if (rel.split('/').includes('..') || ignoredPath(rel)) {
        throw new WatchError('BAD_PATH', `rescan path ${dir} is outside the watched tree`)
      }
      if (rel === '') queue.requestFull('request')
      else queue.request(rel)
    },
    async close(): Promise<void> {
      if (reconcile) clearInterval(reconcile)
      await queue.close()
      await watcher.close()
    },
  }
}

/**
 * The timing options from the config's `watch` section.
 *
 * @example
 * await watchMirror({ root, onDirty, outputDirs, ...watchTimings(config.watch) })
 */
export function watchTimings(
  watch: Config['watch'],
): Pick<WatchOptions, 'quietMs' | 'maxWaitMs' | 'stableMs' | 'reconcileMs'> {
  return {
    quietMs: watch.quietSeconds * 1000,
    maxWaitMs: watch.maxWaitSeconds * 1000,
    stableMs: watch.stableSeconds * 1000,
    reconcileMs: watch.reconcileSeconds * 1000,
  }
}

type Settings = typeof defaults

/**
 * Dirty directories and when to act on them: after `quietMs` without events or `maxWaitMs` after
 * the first, once no ftpsync run is in progress and the directories hold still for `stableMs`.
 */
class DirtyQueue {
  private readonly dirty = new Map<string, number>() // dir -> time of its last event
  private full: DirtyReason | undefined
  private requested = false
  private firstEventAt = 0
  private lastEventAt = 0
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private closed = false
  private deferredBy: string | undefined
  /** No attempt before this time: ftpsync is running, or the last attempt found writes going on. */
  private notBefore = 0

  constructor(
    private readonly root: string,
    private readonly settings: Settings,
    private readonly onDirty: WatchOptions['onDirty'],
  ) {}

  mark(dir: string): void {
    const now = Date.now()
    if (this.dirty.size === 0 && this.full === undefined) this.firstEventAt = now
    this.dirty.set(dir, now)
    this.lastEventAt = now
    this.schedule()
  }

  request(dir: string): void {
    this.mark(dir)
    this.requested = true
    this.schedule()
  }

  requestFull(reason: 'reconcile' | 'request'): void {
    if (this.dirty.size === 0 && this.full === undefined) this.firstEventAt = Date.now()
    this.full = this.full === 'request' ? 'request' : reason
    this.schedule()
  }

  /** Something worth a look now (ftpsync finished): act on what is pending without the wait. */
  poke(): void {
    if (this.deferredBy === undefined) return
    this.notBefore = 0
    this.schedule()
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.running
  }

  private schedule(): void {
    if (this.closed || this.running) return
    if (this.dirty.size === 0 && this.full === undefined) return
    const now = Date.now()
    const urgent = this.requested || this.full !== undefined
    const due = Math.max(
      this.notBefore,
      urgent
        ? now
        : Math.min(
            this.lastEventAt + this.settings.quietMs,
            this.firstEventAt + this.settings.maxWaitMs,
          ),
    )
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.run(), Math.max(0, due - now))
  }

  private run(): void {
    this.running = this.attempt()
      .catch((error: unknown) => log.error('scan after watch failed', { root: this.root, error }))
      .finally(() => {
        this.running = undefined
        this.schedule()
      })
  }

  private async attempt(): Promise<void> {
    const marker = await updateInProgress(this.root)
    if (marker !== undefined) {
      if (this.deferredBy !== marker) log.info('waiting for ftpsync', { marker })
      this.deferredBy = marker
      this.notBefore = Date.now() + this.settings.deferPollMs
      return
    }
    this.deferredBy = undefined

    const dirs = [...this.dirty.keys()]
    const checkStart = Date.now()
    if (dirs.length > 0) {
      const before = await snapshot(this.root, dirs)
      await sleep(this.settings.stableMs)
      if (this.closed) return
      const after = await snapshot(this.root, dirs)
      if (!heldStill(before, after)) {
        // Still being written: look again at once (the check itself takes `stableMs`).
        this.notBefore = Date.now()
        return
      }
    }

    const full = this.full
    const reason: DirtyReason = this.requested ? 'request' : 'change'
    this.full = undefined
    this.requested = false
    // A directory with an event since the check began stays dirty: the next round sees it again.
    for (const d of dirs) if ((this.dirty.get(d) ?? 0) < checkStart) this.dirty.delete(d)
    if (this.dirty.size > 0) this.firstEventAt = Date.now()
    if (this.closed) return
    if (full !== undefined) await this.onDirty([''], { reason: full, full: true })
    else await this.onDirty(dirs.sort(), { reason, full: false })
  }
}

function parent(rel: string): string {
  const slash = rel.lastIndexOf('/')
  return slash < 0 ? '' : rel.slice(0, slash)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function definedOnly(options: WatchOptions): Partial<Settings> {
  const out: Partial<Settings> = {}
  for (const key of Object.keys(defaults) as (keyof Settings)[]) {
    if (options[key] !== undefined) (out as Record<string, unknown>)[key] = options[key]
  }
  return out
}
