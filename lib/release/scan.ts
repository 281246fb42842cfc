import { readdir, realpath, stat } from 'node:fs/promises'
import type { Dirent } from 'node:fs'
import path from 'node:path'
import type { LayoutProfile } from '../config/index.ts'
import { ProfileSelector, type ChoiceReason, type ProfileChoice } from './detect.ts'
import { ReleaseError } from './errors.ts'
import { globSet, globToRegExp } from './glob.ts'
import type { ReleaseProfile } from './profile.ts'

/** One file of a release, as the scan saw it: enough to tell later whether it changed. */
export interface FileRef {
  /** Posix path relative to the mirror root. */
  path: string
  absPath: string
  size: number
  mtimeMs: number
  ino: number
}

/** An artifact and its companions: one torrent's worth of files. */
export interface Release {
  /** Posix directory of the artifact relative to the root (`''` for the root itself). */
  releaseDir: string
  /** The torrent name: the artifact without its extension, or its file name when alone. */
  name: string
  artifact: FileRef
  /** Sorted by path; empty means a single-file torrent. */
  companions: FileRef[]
  /** The layout whose rules made this release, and how it was chosen for its folder. */
  profile: LayoutProfile
  how: ChoiceReason
  /** Where the release's distribution starts (relative to the root): its output folders go there. */
  distributionRoot: string
}

export type IgnoredReason =
  | 'below minSize'
  | 'symlink leaves the root'
  | 'broken symlink'
  | 'excluded'
  | 'symlink to a file in the tree'

/** A file that looked like an artifact but is not one, so a user can be told why. */
export interface IgnoredFile {
  path: string
  reason: IgnoredReason
}

/**
 * A file or folder the scan could not read (permissions, a name too long, a symlink loop, a name
 * that is not UTF-8): a problem of that entry, never of the pass, which goes on without it.
 */
export interface ScanProblem {
  /** Posix path relative to the root; bytes that are not UTF-8 are shown as `\xNN`. */
  path: string
  /** The errno (`EACCES`, `ENAMETOOLONG`, `ELOOP`, …), or `NOT_UTF8` for such a name. */
  code: string
  message: string
}

export interface ScanResult {
  releases: Release[]
  ignored: IgnoredFile[]
  problems: ScanProblem[]
  /** Directories read, for the summary line and the benchmark. */
  directories: number
}

export interface ScanOptions {
  /** The rules for every folder (tests, benchmarks); `selector` chooses them folder by folder. */
  profile?: ReleaseProfile
  /** Config's `profile: auto` and `profiles:` pins: the rules chosen for each folder. */
  selector?: ProfileSelector
  /**
   * Our output folders, never walked: a plain name (`torrents`) at any depth, since each
   * distribution's subtree may hold its own; a path with `/` only there.
   */
  outputDirs?: string[]
  /** Scan only this directory (posix, relative to the root), e.g. for `rescan PATH`. */
  under?: string
  /** Walk subdirectories too (default); `false` reads only `under` itself. */
  recursive?: boolean
  /** Directories read at once. */
  concurrency?: number
}

export const defaultOutputDirs = ['torrents', 'torrent-symlinks']

/**
 * Walks the mirror tree and groups each artifact with its companions. Reads directory entries
 * and stats only, never file data: a rescan of 100k unchanged files has to stay well under a
 * second (`npm run bench:release`).
 *
 * Directory symlinks are never followed (`current -> 13.2.0` would give every release twice), a
 * path segment starting with `.` is never read (rsync's `.NAME.XXXXXX` and `.~tmp~/`), and a file
 * symlink counts only when its target is inside the root.
 *
 * @example
 * const { releases } = await scanReleases('/srv/mirror/gentoo', { profile: resolveProfile('gentoo') })
 */
export async function scanReleases(root: string, options: ScanOptions): Promise<ScanResult> {
  const rootReal = await realRoot(root)
  const start = await checkUnder(rootReal, options.under ?? '')
  const outputDirs = new Set(options.outputDirs ?? defaultOutputDirs)
  const selector = options.selector ?? fixedSelector(options.profile)
  const groupings = new Map<ReleaseProfile, DirectoryGrouping>()
  const groupingOf = (profile: ReleaseProfile): DirectoryGrouping => {
    let grouping = groupings.get(profile)
    if (grouping === undefined) {
      grouping = new DirectoryGrouping(rootReal, profile, selector)
      groupings.set(profile, grouping)
    }
    return grouping
  }
  const result: ScanResult = { releases: [], ignored: [], problems: [], directories: 0 }
  if (start === undefined || isOutput(start, outputDirs)) return result

  const recursive = options.recursive ?? true
  const queue: { dir: string; parent?: ProfileChoice }[] = [
    { dir: start, parent: await choiceAbove(rootReal, start, selector) },
  ]
  const concurrency = options.concurrency ?? 8
  let active = 0

  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (active < concurrency && queue.length > 0) {
        const { dir, parent } = queue.pop()!
        active++
        readDirectory(rootReal, dir, result)
          .then(async (entries) => {
            if (entries === undefined) return
            result.directories++
            const { files, folders } = split(entries, dir, result)
            const choice = selector.choose({ dir, names: files.map((f) => f.name) }, parent)
            const grouping = groupingOf(choice.profile)
            for (const name of folders) {
              const child = join(dir, name)
              if (recursive && !isOutput(child, outputDirs) && !grouping.excluded(child)) {
                queue.push({ dir: child, parent: choice })
              }
            }
            await grouping.group(dir, files, choice, result)
          })
          .then(
            () => {
              active--
              if (queue.length === 0 && active === 0) resolve()
              else pump()
            },
            (error: unknown) => {
              queue.length = 0
              reject(error)
            },
          )
      }
    }
    pump()
  })

  result.releases.sort((a, b) => compare(key(a), key(b)))
  result.ignored.sort((a, b) => compare(a.path, b.path))
  result.problems.sort((a, b) => compare(a.path, b.path))
  return result
}

/** The releases of one directory only: what a watcher's dirty directory needs. */
export function scanDirectory(
  root: string,
  dir: string,
  options: Omit<ScanOptions, 'under' | 'recursive'>,
): Promise<ScanResult> {
  return scanReleases(root, { ...options, under: dir, recursive: false })
}

/** One profile for every folder: what `scanReleases(root, { profile })` means. */
function fixedSelector(profile: ReleaseProfile | undefined): ProfileSelector {
  if (profile === undefined) return new ProfileSelector({ profile: 'auto' })
  return new ProfileSelector({ profile: profile.name, resolved: [profile] })
}

/**
 * The choice of the folder above `start`, for a scan of one folder: a rescan of Arch's
 * `iso/<version>/arch/boot/x86_64` must inherit Arch's rules as a whole-tree scan would. Reads
 * each folder from the root down to it; a folder that cannot be read counts as empty.
 */
async function choiceAbove(
  rootReal: string,
  start: string,
  selector: ProfileSelector,
): Promise<ProfileChoice | undefined> {
  if (start === '') return undefined
  const segments = start.split('/')
  let choice: ProfileChoice | undefined
  // What cannot be read up there is the whole-tree pass's problem to report, not this one's.
  const scratch: ScanResult = { releases: [], ignored: [], problems: [], directories: 0 }
  for (let n = 0; n < segments.length; n++) {
    const dir = segments.slice(0, n).join('/')
    const entries = await readDirectory(rootReal, dir, scratch)
    const names = entries === undefined ? [] : split(entries, dir, scratch).files.map((f) => f.name)
    choice = selector.choose({ dir, names }, choice)
  }
  return choice
}

/**
 * A folder's entries: files and symlinks (any symlink may be a file), and real folders; names
 * that are not UTF-8 become problems of `result`.
 */
function split(
  entries: Dirent<Buffer>[],
  dir: string,
  result: ScanResult,
): { files: Dirent[]; folders: string[] } {
  const files: Dirent[] = []
  const folders: string[] = []
  for (const raw of entries) {
    const entry = named(raw, dir, result)
    if (entry === undefined || entry.name.startsWith('.')) continue
    if (entry.isDirectory()) folders.push(entry.name)
    else if (entry.isFile() || entry.isSymbolicLink()) files.push(entry)
  }
  return { files, folders }
}

class DirectoryGrouping {
  private readonly artifactGlobs: { glob: string; re: RegExp }[]
  private readonly exclude
  private readonly include
  private readonly directoryCompanions: RegExp[]

  constructor(
    private readonly rootReal: string,
    private readonly profile: ReleaseProfile,
    private readonly selector: ProfileSelector,
  ) {
    this.artifactGlobs = profile.artifacts.map((glob) => ({ glob, re: globToRegExp(glob) }))
    this.exclude = globSet(profile.exclude)
    this.include = profile.include.length > 0 ? globSet(profile.include) : undefined
    this.directoryCompanions = profile.directoryCompanions.map(globToRegExp)
  }

  excluded(relPath: string): boolean {
    return this.exclude.matches(relPath)
  }

  async group(
    dir: string,
    entries: Dirent[],
    choice: ProfileChoice,
    result: ScanResult,
  ): Promise<void> {
    const links = new Set(entries.filter((e) => e.isSymbolicLink()).map((e) => e.name))
    const names = new Set(entries.map((e) => e.name))
    const candidates: { name: string; glob: string }[] = []
    for (const { name } of entries) {
      // A .torrent is output (ours or the distribution's), never something to make a torrent of.
      if (name.endsWith('.torrent')) continue
      const match = this.artifactGlobs.find(({ re }) => re.test(name))
      if (match === undefined) continue
      const relPath = join(dir, name)
      if (this.exclude.matches(relPath)) {
        result.ignored.push({ path: relPath, reason: 'excluded' })
      } else if (this.include === undefined || this.include.covers(relPath)) {
        candidates.push({ name, glob: match.glob })
      }
    }
    if (candidates.length === 0) return

    const shared = [...names].filter((n) => this.directoryCompanions.some((re) => re.test(n)))
    const found = await Promise.all(
      candidates.map(async ({ name, glob }) => {
        const artifact = await this.fileRef(dir, name, links.has(name), result)
        if (artifact === undefined) return undefined
        if (links.has(name)) {
          // Arch's `archlinux-x86_64.iso`, openSUSE's `-Current.iso`: the same bytes as the file
          // it points at, which is a release of its own where it lies. Never two torrents of it.
          result.ignored.push({ path: artifact.path, reason: 'symlink to a file in the tree' })
          return undefined
        }
        if (artifact.size < this.profile.minSize) {
          result.ignored.push({ path: artifact.path, reason: 'below minSize' })
          return undefined
        }
        const companionNames = [
          ...this.profile.companionSuffixes.map((s) => name + s).filter((n) => names.has(n)),
          ...shared,
        ]
        const companions = (
          await Promise.all(companionNames.map((n) => this.fileRef(dir, n, links.has(n), result)))
        ).filter((ref): ref is FileRef => ref !== undefined)
        companions.sort((a, b) => compare(a.path, b.path))
        return { name, glob, artifact, companions }
      }),
    )

    const releases = found.filter((r) => r !== undefined)
    const stems = releases.map((r) => (r.companions.length > 0 ? stem(r.name, r.glob) : r.name))
    const distributionRoot = this.selector.distributionRoot(dir)
    for (const [i, r] of releases.entries()) {
      // Two artifacts with one stem (`x.iso`, `x.img`) would write one .torrent; keep both apart.
      const clash = stems.some((s, j) => j !== i && s === stems[i])
      result.releases.push({
        releaseDir: dir,
        name: clash ? r.name : stems[i],
        artifact: r.artifact,
        companions: r.companions,
        profile: choice.profile.name,
        how: choice.how,
        distributionRoot,
      })
    }
  }

  /** Stats one entry; a symlink counts only when it ends at a file inside the root. */
  private async fileRef(
    dir: string,
    name: string,
    isLink: boolean,
    result: ScanResult,
  ): Promise<FileRef | undefined> {
    const relPath = join(dir, name)
    const absPath = path.join(this.rootReal, relPath)
    let target = absPath
    try {
      if (isLink) target = await realpath(absPath)
    } catch (error) {
      if (isNotFound(error)) {
        // Gone since readdir (rsync renamed it away), or a symlink pointing nowhere.
        result.ignored.push({ path: relPath, reason: 'broken symlink' })
        return undefined
      }
      return entryProblem(result, relPath, error)
    }
    if (isLink && !isInside(this.rootReal, target)) {
      result.ignored.push({ path: relPath, reason: 'symlink leaves the root' })
      return undefined
    }
    try {
      const s = await stat(target)
      if (!s.isFile()) return undefined
      return { path: relPath, absPath, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino }
    } catch (error) {
      if (isNotFound(error)) return undefined
      return entryProblem(result, relPath, error)
    }
  }
}

async function realRoot(root: string): Promise<string> {
  try {
    const real = await realpath(root)
    if ((await stat(real)).isDirectory()) return real
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
  throw new ReleaseError('BAD_ROOT', `mirror root ${root} is not a directory`)
}

/**
 * `under` must name a real directory inside the root, reached through no symlink: a rescan of
 * `current/` must not give the releases of `13.2.0/` a second home. Undefined when it is gone.
 */
async function checkUnder(rootReal: string, under: string): Promise<string | undefined> {
  const rel = under
    .split(/[\\/]+/)
    .filter((s) => s !== '' && s !== '.')
    .join('/')
  if (path.isAbsolute(under) || rel.split('/').some((s) => s === '..' || s.startsWith('.'))) {
    throw new ReleaseError(
      'BAD_PATH',
      `scan path ${under} must be relative to the root, without ".."`,
    )
  }
  const abs = path.join(rootReal, rel)
  let real: string
  try {
    real = await realpath(abs)
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
  if (real !== abs) {
    throw new ReleaseError('BAD_PATH', `scan path ${under} goes through a symlink; scan its target`)
  }
  return rel
}

/**
 * Reads names as bytes: a name that is not UTF-8 is reported (a string readdir would hand back
 * U+FFFD in its place, and the path would name no file). A folder that cannot be read is a problem
 * of that folder (a root-owned `lost+found` on every mirror that is its own filesystem).
 */
async function readDirectory(
  rootReal: string,
  dir: string,
  result: ScanResult,
): Promise<Dirent<Buffer>[] | undefined> {
  try {
    return await readdir(path.join(rootReal, dir), { withFileTypes: true, encoding: 'buffer' })
  } catch (error) {
    // Removed or replaced since its parent was read: the next pass sees the new state.
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    return entryProblem(result, dir, error)
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The entry with its name decoded, or undefined (and a problem) when it is not UTF-8. */
function named(entry: Dirent<Buffer>, dir: string, result: ScanResult): Dirent | undefined {
  try {
    const name = utf8.decode(entry.name)
    return Object.assign(entry, { name }) as unknown as Dirent
  } catch {
    const shown = join(dir, escapeName(entry.name))
    result.problems.push({
      path: shown,
      code: 'NOT_UTF8',
      message: `${shown}: the name is not UTF-8, so it cannot go into a torrent (BEP 3 paths are UTF-8)`,
    })
    return undefined
  }
}

/** Printable ASCII as it is, every other byte as `\xNN`: a name a log line and JSON can carry. */
function escapeName(bytes: Buffer): string {
  let out = ''
  for (const b of bytes) {
    out +=
      b >= 0x20 && b < 0x7f && b !== 0x5c
        ? String.fromCharCode(b)
        : `\\x${b.toString(16).padStart(2, '0')}`
  }
  return out
}

/**
 * An error that is about one entry (it carries an errno, like `EACCES` or `ENAMETOOLONG`) becomes
 * that entry's problem; anything else is a fault of the pass and is thrown on.
 */
function entryProblem(result: ScanResult, relPath: string, error: unknown): undefined {
  const { code, message } = error as NodeJS.ErrnoException
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw error
  result.problems.push({ path: relPath || '.', code, message })
  return undefined
}

/** `stage3-amd64-20261117T170000Z.tar.xz` under `*.tar.xz` gives `stage3-amd64-20261117T170000Z`. */
function stem(name: string, glob: string): string {
  const suffix = /^\*(\.[^*?/]+)$/.exec(glob)?.[1]
  if (suffix !== undefined && name.endsWith(suffix) && name.length > suffix.length) {
    return name.slice(0, -suffix.length)
  }
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(0, dot) : name
}

/** `torrents` is ours at any depth (a distribution's own pair); `out/links` only there. */
function isOutput(relDir: string, outputDirs: Set<string>): boolean {
  for (const out of outputDirs) {
    if (relDir === out || relDir.startsWith(`${out}/`)) return true
    if (!out.includes('/') && relDir.split('/').includes(out)) return true
  }
  return false
}

function isInside(rootReal: string, target: string): boolean {
  return target.startsWith(rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep)
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`
}

function key(r: Release): string {
  return `${r.releaseDir}/${r.name}`
}

/** Byte order, as the torrent's file list is sorted: independent of the locale. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
