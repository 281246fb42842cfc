import path from 'node:path'
import { requireRoot, type ResolvedConfig } from '../config/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import type { StagedFile } from '../files/index.ts'
import { HashError } from '../hashing/index.ts'
import { log } from '../log/index.ts'
import { MetainfoError, trackerKeyHex, type Torrent } from '../metainfo/index.ts'
import {
  checkDigests,
  ReleaseError,
  scanReleases,
  verifySignatures,
  type ChoiceReason,
  type DigestAlgorithm,
  type FileRef,
  type ProfileSelector,
  type Release,
  type ScanProblem,
  type ScanResult,
} from '../release/index.ts'
import type { HashAhead } from './ahead.ts'
import type { WebSeedMirror } from './announce.ts'
import { buildTorrent, digestsToCompute, fingerprintOf, type Built } from './build.ts'
import { Outputs } from './outputs.ts'
import { OutputLayout, profileSelector } from './placement.ts'
import {
  lastFailures,
  type Failure,
  loadTracked,
  markRemoved,
  recordEvent,
  recordPublished,
  retire,
  type TrackedTorrent,
} from '../catalog/index.ts'
import { healthyMirrors } from '../mirrors/index.ts'
import { liveTorrent, type PublishEvents } from './live.ts'

export interface ReleaseOutcome {
  releaseDir: string
  name: string
}

/** The rules a distribution's releases were made with, as `scan --json` reports them. */
export interface LayoutChoice {
  /** Where the distribution starts, relative to the root ('' for the root itself). */
  distribution: string
  profile: string
  how: ChoiceReason
  /** Releases found with these rules there. */
  releases: number
  /** Its `.torrent` files' folder, relative to the root. */
  torrents: string
}

export interface ReconcileSummary {
  /** The folder scanned, relative to the root; '' for the whole tree. */
  scope: string
  /** Which profile each distribution subtree got, and how: what `profile: auto` chose. */
  layouts: LayoutChoice[]
  releases: number
  unchanged: number
  published: Array<
    ReleaseOutcome & { infoHash: string; size: number; verified: boolean; profile: string }
  >
  /** Not published yet, and looked at again on the next pass: no digest, still being written. */
  held: Array<ReleaseOutcome & { reason: string }>
  /** Verification failed: not read again until one of its files changes. */
  failed: Array<ReleaseOutcome & { reason: string }>
  retired: Array<ReleaseOutcome & { infoHash: string }>
  removed: Array<ReleaseOutcome & { infoHash: string }>
  /**
   * Entries this pass could not read or write (a folder it may not read, an artifact it may not
   * open, a name too long or not UTF-8, an output on a full or read-only disk): each is a problem
   * of that entry, and the rest of the pass published.
   */
  problems: ScanProblem[]
  bytesHashed: number
  seconds: number
}

export interface PublisherOptions {
  config: ResolvedConfig
  database: DatabaseHandle
  events?: Partial<PublishEvents>
  threads?: number
  /** Releases hashed while a new database opened (`scan`): taken instead of hashing them again. */
  ahead?: HashAhead
}

/** One release on its way through `publish`: what every step needs to know of it. */
interface Attempt {
  release: Release
  files: FileRef[]
  /** `<release dir>/<name>`: the events' subject. */
  key: string
  outcome: ReleaseOutcome
  /** The files' identity (path, size, mtime, inode): a failed release is retried when it changes. */
  fingerprint: string
  summary: ReconcileSummary
}

/** What {@link Publisher.prepare} decided for a release; {@link Publisher.settle} carries it out. */
type Prepared =
  | { fate: 'failed before' | 'held'; reason: string }
  /** Signatures or digests fail; `hashed` bytes were read to find out. */
  | { fate: 'fails'; reason: string; hashed?: number }
  | { fate: 'built'; built: Built; verified: boolean; staged: StagedFile }
  /** Built, but an output could not be written: `error` is settled as the release's problem. */
  | { fate: 'unwritable'; error: unknown; hashed: number }

/** The advisory lock a reconcile holds; whatever else rewrites torrents takes it too. */
export const generatorLock = 'mirrorseed:generator'

/**
 * The generator: turns the mirror tree into published torrents. A reconcile scans (stat only),
 * compares each release's files with what the database holds, and hashes only what changed; it
 * verifies against the release's digest files, writes the `.torrent` and symlink folder, records
 * it all in one transaction, then announces it. One reconcile at a time per database (advisory
 * lock), so two generator nodes never publish the same release twice.
 *
 * @example
 * const events = { published: (t: LiveTorrent) => tracker.allow(t.infoHash) }
 * const publisher = new Publisher({ config, database, events })
 * const summary = await publisher.reconcile()
 */
export class Publisher {
  readonly outputs: Outputs
  private readonly config: ResolvedConfig
  private readonly database: DatabaseHandle
  private readonly selector: ProfileSelector
  private readonly inFlight = new Set<Promise<ReconcileSummary>>()
  /** Problems already logged and recorded, by path: each is told once until it changes. */
  private readonly reported = new Map<string, string>()

  constructor(private readonly options: PublisherOptions) {
    this.config = options.config
    this.database = options.database
    const root = requireRoot(this.config)
    this.selector = profileSelector(this.config)
    this.outputs = new Outputs(root, new OutputLayout(this.selector, this.config.output))
  }

  /**
   * One pass over the tree, or over the folder `under` (relative to the root). `walked` is the
   * walk of that folder ({@link walkTree}) when the caller started it already, before the
   * database was open: `scan` overlaps the two.
   */
  reconcile(
    options: { under?: string; walked?: Promise<ScanResult> } = {},
  ): Promise<ReconcileSummary> {
    const scope = options.under ?? ''
    const pass = this.database.exclusive(generatorLock, () => this.pass(scope, options.walked))
    this.inFlight.add(pass)
    const settle = () => this.inFlight.delete(pass)
    pass.then(settle, settle)
    return pass
  }

  /** Resolves when no pass is running: a shutdown waits for the one in flight to commit. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight])
  }

  private async pass(scope: string, walked?: Promise<ScanResult>): Promise<ReconcileSummary> {
    const started = performance.now()
    const { config } = this
    const db = this.database.db
    // The walk needs no database: it reads the tree while the database answers (a first scan of
    // 10,000 files spends ~0.3 s in it, bench/scan.ts). It never enters the output folders that
    // removeLeftovers cleans.
    const [tracked, scan] = await Promise.all([
      (async () => {
        const tracked = await loadTracked(db)
        if (scope === '') {
          const layout = this.outputs.layout
          await this.outputs.removeLeftovers(tracked.map((t) => layout.base(t.releaseDir)))
        }
        return tracked
      })(),
      walked ?? walkTree(config, scope, this.selector),
    ])
    const active = new Map(
      tracked.filter((t) => t.status === 'active').map((t) => [`${t.releaseDir}/${t.name}`, t]),
    )
    const summary: ReconcileSummary = {
      scope,
      layouts: this.layouts(scan.releases),
      releases: scan.releases.length,
      unchanged: 0,
      published: [],
      held: [],
      failed: [],
      retired: [],
      removed: [],
      problems: [...scan.problems],
      bytesHashed: 0,
      seconds: 0,
    }
    const seen = new Set<string>()
    const changed: Release[] = []
    for (const release of scan.releases) {
      const key = `${release.releaseDir}/${release.name}`
      seen.add(key)
      const known = active.get(key)
      if (
        known &&
        sameFiles(known, [release.artifact, ...release.companions]) &&
        this.outputs.hasTorrent(release.releaseDir, release.name)
      )
        summary.unchanged++
      else changed.push(release)
    }
    if (changed.length > 0) await this.publishAll(changed, await healthyMirrors(db), summary)
    await this.report(summary.problems, scope)

    const inScope = (t: TrackedTorrent) =>
      scope === '' || t.releaseDir === scope || t.releaseDir.startsWith(`${scope}/`)
    for (const [key, known] of active) {
      if (seen.has(key) || !inScope(known)) continue
      await retire(db, known)
      this.options.events?.superseded?.(known.infoHash)
      summary.retired.push({
        releaseDir: known.releaseDir,
        name: known.name,
        infoHash: known.infoHash,
      })
      log.info('retired', { release: key, grace: `${config.tracker.graceSeconds}s` })
    }
    await this.removeExpired(summary)
    summary.seconds = (performance.now() - started) / 1000
    return summary
  }

  /** One line per distribution and profile: what auto-detection chose, for `scan --json`. */
  private layouts(releases: Release[]): LayoutChoice[] {
    const byKey = new Map<string, LayoutChoice>()
    for (const r of releases) {
      const key = `${r.distributionRoot}\0${r.profile}\0${r.how}`
      const known = byKey.get(key)
      if (known) known.releases++
      else
        byKey.set(key, {
          distribution: r.distributionRoot,
          profile: r.profile,
          how: r.how,
          releases: 1,
          torrents: this.outputs.layout.roots(this.outputs.layout.base(r.releaseDir)).torrents,
        })
    }
    return [...byKey.values()].sort(
      (a, b) => compare(a.distribution, b.distribution) || compare(a.profile, b.profile),
    )
  }

  /**
   * Publishes `releases` in order, each one's preparation (failure check, digest files,
   * signatures, hashing, its symlink folder and staged `.torrent`) running while the release
   * before it is recorded and put in place: the hashing threads read the next release while this
   * one's rows are written (a first scan of 50 releases spent 2.9 s writing and recording them
   * one after the other, bench/scan.ts). What each release comes to (its summary entries, its
   * events, its problem) is still settled one release at a time, in order.
   */
  private async publishAll(
    releases: Release[],
    mirrors: WebSeedMirror[],
    summary: ReconcileSummary,
  ): Promise<void> {
    const failures = await lastFailures(
      this.database.db,
      releases.map((r) => `${r.releaseDir}/${r.name}`),
    )
    const prepare = (release: Release) => {
      const attempt = this.attempt(release, summary)
      const prepared = this.prepare(attempt, mirrors, failures.get(attempt.key))
      // Whatever became of it, a build made ahead for it is no longer needed.
      const passed = () => this.options.ahead?.passed(attempt.fingerprint)
      // Settled in order below; a failure must not count as unhandled while it waits its turn.
      prepared.then(passed, passed)
      return { attempt, prepared }
    }
    let next = prepare(releases[0])
    for (let i = 0; i < releases.length; i++) {
      const { attempt, prepared } = next
      if (i + 1 < releases.length) next = prepare(releases[i + 1])
      try {
        await this.settle(attempt, await prepared)
      } catch (err) {
        const problem = entryProblem(err, attempt.release, this.outputs.root)
        if (problem === undefined) {
          // The pass fails; the next release's hashing must not outlive it, nor its staged
          // .torrent stay behind.
          await next.prepared.then(
            (p) => (p.fate === 'built' ? p.staged.discard() : undefined),
            () => {},
          )
          throw err
        }
        summary.problems.push(problem)
      }
    }
  }

  private attempt(release: Release, summary: ReconcileSummary): Attempt {
    const files = [release.artifact, ...release.companions]
    return {
      release,
      files,
      key: `${release.releaseDir}/${release.name}`,
      outcome: { releaseDir: release.releaseDir, name: release.name },
      fingerprint: fingerprintOf(files),
      summary,
    }
  }

  /**
   * One release up to its torrent, in named steps: skip it if it failed before unchanged, read
   * its digest files, check its signatures, hash it and build the torrent, check the digests.
   * A step that decides the release's fate (held, failed) says so and the rest are skipped. A
   * built release's symlink folder and staged `.torrent` are written here; the database, the
   * `.torrent` in place and the summary are {@link settle}'s, in order.
   */
  private async prepare(
    attempt: Attempt,
    mirrors: WebSeedMirror[],
    failure: Failure | undefined,
  ): Promise<Prepared> {
    if (failure !== undefined && failure.fingerprint === attempt.fingerprint)
      return { fate: 'failed before', reason: failure.message }
    const expected = await digestsToCompute(this.config, attempt.release)
    if (expected.held !== undefined) return { fate: 'held', reason: expected.held }
    const signatures = await this.signatures(attempt)
    if (signatures !== undefined) return { fate: 'fails', reason: signatures }
    const built = await this.build(attempt, expected.listed, mirrors)
    if ('held' in built) return { fate: 'held', reason: built.held }
    const verification = checkDigests(attempt.release, expected.digests, built.computed)
    if (verification.status === 'failed')
      return { fate: 'fails', reason: verification.message, hashed: built.size }
    let staged: StagedFile
    try {
      staged = await this.writeOutputs(attempt, built)
    } catch (error) {
      return { fate: 'unwritable', error, hashed: built.size }
    }
    return { fate: 'built', built, verified: verification.status === 'verified', staged }
  }

  /** What a prepared release comes to: a summary entry, and its outputs and rows if built. */
  private async settle(attempt: Attempt, prepared: Prepared): Promise<void> {
    const { outcome, summary } = attempt
    switch (prepared.fate) {
      case 'failed before':
        summary.failed.push({ ...outcome, reason: prepared.reason })
        return
      case 'held':
        summary.held.push({ ...outcome, reason: prepared.reason })
        return
      case 'fails':
        summary.bytesHashed += prepared.hashed ?? 0
        return this.fail(attempt, prepared.reason)
      case 'unwritable':
        summary.bytesHashed += prepared.hashed
        throw prepared.error
      case 'built': {
        const { built, verified, staged } = prepared
        summary.bytesHashed += built.size
        const recorded = await this.record(attempt, built, staged)
        this.announce(attempt, built, recorded, verified)
      }
    }
  }

  /** With release.keyring, why the release's signatures fail; undefined when they hold. */
  private async signatures({ release }: Attempt): Promise<string | undefined> {
    const { keyring } = this.config.release
    if (!keyring) return undefined
    const signatures = await verifySignatures(release, keyring)
    return signatures.status === 'failed' ? signatures.message : undefined
  }

  /** Records a verification failure: an event (so it is not read again) and a log line. */
  private async fail({ key, fingerprint, outcome, summary }: Attempt, why: string): Promise<void> {
    await recordEvent(this.database.db, {
      kind: 'verification_failed',
      subject: key,
      message: why,
      detail: { fingerprint },
    })
    summary.failed.push({ ...outcome, reason: why })
    log.warn('verification failed', { release: key, why })
  }

  /** The release's torrent: built ahead while the database opened (see ahead.ts), or now. */
  private build(
    { release, files, fingerprint }: Attempt,
    listed: DigestAlgorithm[],
    mirrors: WebSeedMirror[],
  ): Promise<Built | { held: string }> {
    const { config, outputs, options } = this
    return (
      options.ahead?.take(fingerprint, listed, mirrors) ??
      buildTorrent(config, outputs.layout, { release, files, listed, mirrors }, options.threads)
    )
  }

  /**
   * Writes the symlink folder and the `.torrent` under a temporary name: what {@link record} puts
   * in place once the database holds the torrent. Done while the release before is recorded.
   */
  private async writeOutputs({ release, files }: Attempt, built: Built): Promise<StagedFile> {
    if (built.multiFile) {
      await this.outputs.writeSymlinks(
        release.releaseDir,
        release.name,
        files.map((f) => path.posix.basename(f.path)),
      )
    }
    return this.outputs.stageTorrent(release.releaseDir, release.name, built.bytes)
  }

  /**
   * Records the torrent in one transaction, then puts its staged `.torrent` in place. Commit
   * before the .torrent is in the tree: downstream mirrors rsync what is there, and our tracker
   * must already know every torrent they can find.
   */
  private async record(
    { release, files }: Attempt,
    built: Built,
    staged: StagedFile,
  ): Promise<{ id: number; superseded: string[] }> {
    const { torrent, computed } = built
    const recorded = await recordPublished(this.database.db, {
      infoHash: trackerKeyHex(torrent),
      infoHashV2: torrent.infoHashV2?.toString('hex') ?? null,
      name: release.name,
      releaseDir: release.releaseDir,
      profile: release.profile,
      format: torrent.format,
      pieceLength: torrent.pieceLength,
      size: built.size,
      metainfo: built.bytes,
      files: files.map((f, i) => ({
        path: f.path,
        size: f.size,
        role: i === 0 ? ('artifact' as const) : ('companion' as const),
        mtimeMs: Math.floor(f.mtimeMs),
        inode: f.ino,
        sha256: computed[f.path].sha256 ?? null,
      })),
    }).catch(async (err: unknown) => {
      await staged.discard()
      throw err
    })
    await staged.place()
    return recorded
  }

  /** Tells the summary, the log and the feed, right after the commit. */
  private announce(
    { release, key, outcome, summary }: Attempt,
    built: Built,
    recorded: { id: number; superseded: string[] },
    verified: boolean,
  ): void {
    const infoHash = trackerKeyHex(built.torrent)
    summary.published.push({
      ...outcome,
      infoHash,
      size: built.size,
      verified,
      profile: release.profile,
    })
    log.info('published', { release: key, infoHash, verified })
    for (const old of recorded.superseded) this.options.events?.superseded?.(old)
    this.options.events?.published?.(
      liveTorrent(
        this.outputs.root,
        {
          id: recorded.id,
          releaseDir: release.releaseDir,
          status: 'active',
          supersededAt: null,
        },
        built.torrent,
      ),
    )
  }

  /**
   * One log line and one `events` row per new problem; a problem seen again in the next pass is
   * not told again, and one that is gone (after a full pass) may be told anew if it comes back.
   */
  private async report(problems: ScanProblem[], scope: string): Promise<void> {
    const seen = new Set<string>()
    for (const problem of problems) {
      seen.add(problem.path)
      if (this.reported.get(problem.path) === problem.message) continue
      log.warn('problem', { path: problem.path, errno: problem.code, why: problem.message })
      await recordEvent(this.database.db, {
        kind: 'problem',
        subject: problem.path,
        message: problem.message,
        detail: { code: problem.code },
      })
      this.reported.set(problem.path, problem.message)
    }
    if (scope !== '') return
    for (const at of this.reported.keys()) if (!seen.has(at)) this.reported.delete(at)
  }

  /** Superseded torrents past their grace period leave the tracker, the seeder and the tree. */
  private async removeExpired(summary: ReconcileSummary): Promise<void> {
    const graceMs = this.config.tracker.graceSeconds * 1000
    const tracked = await loadTracked(this.database.db)
    const activeKeys = new Set(
      tracked.filter((t) => t.status === 'active').map((t) => `${t.releaseDir}/${t.name}`),
    )
    for (const t of tracked) {
      if (t.status !== 'superseded' || !t.supersededAt) continue
      if (Date.now() - t.supersededAt.getTime() < graceMs) continue
      // A newer torrent of the same release owns the same output paths: leave them to it.
      if (!activeKeys.has(`${t.releaseDir}/${t.name}`))
        await this.outputs.remove(t.releaseDir, t.name)
      await markRemoved(this.database.db, t)
      this.options.events?.removed?.(t.infoHash)
      summary.removed.push({ releaseDir: t.releaseDir, name: t.name, infoHash: t.infoHash })
      log.info('removed', { release: `${t.releaseDir}/${t.name}`, infoHash: t.infoHash })
    }
  }
}

/**
 * The walk a reconcile of `under` (relative to the root, '' for the whole tree) starts from: stat
 * only, no database, so it may start before the database is open.
 */
export function walkTree(
  config: ResolvedConfig,
  under = '',
  selector = profileSelector(config),
): Promise<ScanResult> {
  return scanReleases(requireRoot(config), {
    selector,
    // Plain names: never walked at any depth, since each distribution may hold a pair.
    outputDirs: [config.output.torrents, config.output.symlinks],
    under: under || undefined,
  })
}

/** The tracker key as hex; lib/metainfo owns it (`trackerKeyHex`). */
export const trackerKey = (torrent: Torrent): string => trackerKeyHex(torrent)

/**
 * A failure that belongs to one release (it cannot be read, its digest file is unreadable or too
 * large, an output of it cannot be written): its problem. Undefined for anything else (the
 * database is down), which fails the pass.
 */
function entryProblem(err: unknown, release: Release, root: string): ScanProblem | undefined {
  const where = `${release.releaseDir ? `${release.releaseDir}/` : ''}${release.name}`
  if (err instanceof ReleaseError || err instanceof MetainfoError) {
    return { path: where, code: err.code, message: err.message }
  }
  if (err instanceof HashError && err.code === 'io') {
    // The hashing thread passes on the errno in its message only.
    const code = /\b(E[A-Z]{2,})\b/.exec(err.message)?.[1] ?? 'EIO'
    return { path: where, code, message: err.message }
  }
  const { code, path: at, message } = err as NodeJS.ErrnoException
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof at === 'string') {
    const rel = path.relative(root, at)
    const shown = rel.startsWith('..') || path.isAbsolute(rel) ? at : rel
    return { path: shown.split(path.sep).join('/'), code, message }
  }
  return undefined
}

/** Unchanged means: the same files with the same size, mtime and inode; no byte is read. */
function sameFiles(known: TrackedTorrent, files: FileRef[]): boolean {
  if (known.files.length !== files.length) return false
  const byPath = new Map(known.files.map((f) => [f.path, f]))
  return files.every((f) => {
    const k = byPath.get(f.path)
    return (
      k !== undefined &&
      k.size === f.size &&
      k.mtimeMs === Math.floor(f.mtimeMs) &&
      k.inode === f.ino
    )
  })
}

/** Byte order, as the scanner sorts: independent of the locale. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
