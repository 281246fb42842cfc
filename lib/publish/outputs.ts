import { existsSync } from 'node:fs'
import { lstat, mkdir, readdir, readlink, rename, rm, rmdir, symlink } from 'node:fs/promises'
import path from 'node:path'
import type { ResolvedConfig } from '../config/index.ts'
import { stageFile, syncFolder, tempName, type StagedFile } from '../files/index.ts'
import { PublishError } from './errors.ts'
import { outputLayout, type OutputLayout } from './placement.ts'

/**
 * The only places mirrorseed writes in the mirror tree: the `torrents/` and `torrent-symlinks/`
 * folders that {@link OutputLayout} places (one pair per distribution, or one at the root). Every
 * write goes to a dot-named temporary first (the scanner never reads dot segments, and rsync
 * mirrors them like any file) and is renamed into place, so a crash at any moment leaves either
 * the old output or the new one, never half of one.
 */
export class Outputs {
  constructor(
    readonly root: string,
    readonly layout: OutputLayout,
  ) {}

  torrentFile(releaseDir: string, name: string): string {
    return this.inside(
      this.roots(releaseDir).torrents,
      this.layout.torrentsDir(releaseDir),
      `${name}.torrent`,
    )
  }

  symlinkDir(releaseDir: string, name: string): string {
    return this.inside(this.roots(releaseDir).symlinks, this.layout.symlinksDir(releaseDir), name)
  }

  /**
   * Whether the release's `.torrent` is in place. A crash between the commit and the rename (see
   * {@link stageTorrent}) leaves a torrent recorded whose file is missing: the pass then
   * publishes it again instead of counting it unchanged. One stat, on the main thread: ~5 us.
   */
  hasTorrent(releaseDir: string, name: string): boolean {
    try {
      return existsSync(this.torrentFile(releaseDir, name))
    } catch {
      // A path outside the output folder: the pass's publish says so, as that entry's problem.
      return false
    }
  }

  /** Writes the `.torrent` through a temporary file and puts it in place at once. */
  async writeTorrent(releaseDir: string, name: string, bytes: Buffer): Promise<string> {
    const staged = await this.stageTorrent(releaseDir, name, bytes)
    await staged.place()
    return staged.file
  }

  /**
   * Writes the `.torrent` under a temporary name, fsynced, beside where it goes; `place()` renames
   * it into place and fsyncs the folder. The publisher commits its database row in between, so
   * a `.torrent` that downstream mirrors can rsync is always one our tracker tracks.
   */
  async stageTorrent(releaseDir: string, name: string, bytes: Buffer): Promise<StagedFile> {
    const file = this.torrentFile(releaseDir, name)
    await mkdir(path.dirname(file), { recursive: true })
    return stageFile(file, bytes)
  }

  /**
   * Builds `<symlinks>/<releaseDir>/<name>/` holding one relative symlink per file, pointing back
   * at the real file, so the folder still resolves after `rsync -l` onto any mirror (docs/architecture.md:
   * web seeds through a symlink tree). Left alone when it already says the same.
   */
  async writeSymlinks(releaseDir: string, name: string, files: string[]): Promise<string> {
    const dir = this.symlinkDir(releaseDir, name)
    const targets = new Map(
      files.map((file) => [file, path.relative(dir, path.join(this.root, releaseDir, file))]),
    )
    if (await sameLinks(dir, targets)) return dir
    await mkdir(path.dirname(dir), { recursive: true })
    const temp = tempName(dir, 'tmp')
    await mkdir(temp)
    // At once, not one after another: each is a round trip through libuv's thread pool.
    await Promise.all([...targets].map(([file, target]) => symlink(target, path.join(temp, file))))
    const old = tempName(dir, 'old')
    const existed = await rename(dir, old).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false
        throw err
      },
    )
    await rename(temp, dir)
    await syncFolder(path.dirname(dir))
    if (existed) await rm(old, { recursive: true, force: true })
    return dir
  }

  /** Removes a release's `.torrent` and symlink folder, and the folders they leave empty. */
  async remove(releaseDir: string, name: string): Promise<void> {
    const file = this.torrentFile(releaseDir, name)
    const dir = this.symlinkDir(releaseDir, name)
    const roots = this.roots(releaseDir)
    await rm(file, { force: true })
    await rm(dir, { recursive: true, force: true })
    await pruneEmpty(path.dirname(file), roots.torrents)
    await pruneEmpty(path.dirname(dir), roots.symlinks)
  }

  /**
   * Temporaries a crash left behind (`kill -9` between write and rename), in the output folders
   * of the root and of each folder in `bases` (the distributions published so far).
   */
  async removeLeftovers(bases: Iterable<string> = []): Promise<number> {
    let removed = 0
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
      for (const entry of entries) {
        const full = path.join(dir, entry.name)
        if (/^\.(?:.+\.)?(?:tmp|old)-[0-9a-f]+$/.test(entry.name)) {
          await rm(full, { recursive: true, force: true })
          removed++
        } else if (entry.isDirectory()) {
          await walk(full)
        }
      }
    }
    for (const base of new Set(['', ...bases])) {
      const roots = this.layout.roots(base)
      await walk(path.join(this.root, roots.torrents))
      await walk(path.join(this.root, roots.symlinks))
    }
    return removed
  }

  /** The absolute output folders that serve `releaseDir`. */
  private roots(releaseDir: string): { torrents: string; symlinks: string } {
    const roots = this.layout.roots(this.layout.base(releaseDir))
    return {
      torrents: path.join(this.root, roots.torrents),
      symlinks: path.join(this.root, roots.symlinks),
    }
  }

  /** Joins and checks: a release path can never write outside its output folder. */
  private inside(base: string, dir: string, name: string): string {
    const full = path.join(this.root, dir, name)
    const back = path.relative(base, full)
    if (back === '' || back.startsWith('..') || path.isAbsolute(back)) {
      throw new PublishError(
        'outside-output',
        `refusing to write outside ${base}: ${path.join(dir, name)}`,
      )
    }
    return full
  }
}

async function sameLinks(dir: string, targets: Map<string, string>): Promise<boolean> {
  const entries = await readdir(dir).catch(() => null)
  if (!entries || entries.length !== targets.size) return false
  for (const entry of entries) {
    const want = targets.get(entry)
    if (want === undefined) return false
    const stat = await lstat(path.join(dir, entry))
    if (!stat.isSymbolicLink() || (await readlink(path.join(dir, entry))) !== want) return false
  }
  return true
}

async function pruneEmpty(dir: string, stop: string): Promise<void> {
  while (dir.startsWith(stop + path.sep)) {
    try {
      await rmdir(dir)
    } catch {
      return // not empty, or gone
    }
    dir = path.dirname(dir)
  }
}

/** The output folders of the configured tree. */
export function outputsFor(config: ResolvedConfig & { root: string }): Outputs {
  return new Outputs(config.root, outputLayout(config))
}
