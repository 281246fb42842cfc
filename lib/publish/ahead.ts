import type { ResolvedConfig } from '../config/index.ts'
import type { DigestAlgorithm, ScanResult } from '../release/index.ts'
import type { WebSeedMirror } from './announce.ts'
import { buildTorrent, digestsToCompute, fingerprintOf, type Built } from './build.ts'
import type { OutputLayout } from './placement.ts'

type Build = Promise<Built | { held: string }>

/**
 * Builds made ahead of releases the pass has not reached yet, at most: each is a torrent and a
 * few digests (kilobytes), and about as many as a new database's second of opening lets two
 * threads hash (about thirty releases of 8 MiB, bench/scan.ts).
 */
const WINDOW = 64

/**
 * Hashing while a new embedded database is made and opened, and ahead of the pass after. PGlite
 * takes about a second of the main thread to unpack a new database and start, and until then a
 * pass cannot ask what is published: a first `scan` of 400 MiB spent a third of its time waiting
 * there (bench/scan.ts). A new database knows nothing, though: every release the walk finds is to
 * be published, in the walk's order, and no mirror is healthy yet to be a web seed. So `scan`
 * hashes those releases meanwhile, and goes on ahead of the pass while the pass records them (its
 * main thread busy with the database, the hashing threads with the next releases). The pass takes
 * each build whose inputs are the ones it would use (the same files by path, size, mtime and
 * inode, the same digests, no mirror); anything else it builds itself, as always. Nothing is
 * written here: the pass still checks the signatures and the digests, and writes and records
 * every output.
 *
 * @example
 * const ahead = new HashAhead(config, outputLayout(config), walked)
 * const database = await openDatabase(...)
 * await new Publisher({ config, database, ahead }).reconcile({ walked })
 * ahead.stop()
 */
export class HashAhead {
  /** By the files' fingerprint: the digests computed (joined) and the build. */
  private readonly builds = new Map<string, { listed: string; built: Build }>()
  private stopped = false
  /** Builders waiting for the pass to make room in the window (or for the stop). */
  private waiting: Array<() => void> = []
  /** Resolves when every build started here has ended. */
  readonly done: Promise<void>

  constructor(
    config: ResolvedConfig,
    layout: OutputLayout,
    walked: Promise<ScanResult>,
    threads?: number,
  ) {
    this.done = this.run(config, layout, walked, threads)
  }

  private async run(
    config: ResolvedConfig,
    layout: OutputLayout,
    walked: Promise<ScanResult>,
    threads?: number,
  ): Promise<void> {
    // A walk that fails is the pass's to report.
    const releases = await walked.then(
      (scan) => scan.releases,
      () => [],
    )
    let next = 0
    const builder = async () => {
      while (!this.stopped && next < releases.length) {
        if (this.builds.size >= WINDOW) {
          await new Promise<void>((resolve) => this.waiting.push(resolve))
          continue
        }
        const release = releases[next++]
        const files = [release.artifact, ...release.companions]
        // A digest file it cannot read, a release held for want of a digest: the pass tells.
        const expected = await digestsToCompute(config, release).catch(() => undefined)
        if (expected === undefined || expected.held !== undefined) continue
        const { listed } = expected
        const built = buildTorrent(config, layout, { release, files, listed, mirrors: [] }, threads)
        // Its failure is the pass's to report when it takes it, or no one's.
        built.catch(() => {})
        this.builds.set(fingerprintOf(files), { listed: listed.join(), built })
        await built.catch(() => {})
      }
    }
    // Two releases at a time, as the pass builds them: the threads read one while the other's
    // last chunks and digests are answered.
    await Promise.all([builder(), builder()])
  }

  /** No further release is started here: the pass is over. */
  stop(): void {
    this.stopped = true
    this.wake()
  }

  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve()
  }

  /**
   * The build of the files with this fingerprint, when one was started here with the inputs the
   * pass has: the same digests, and no mirror (a build names its mirrors as web seeds).
   */
  take(
    fingerprint: string,
    listed: readonly DigestAlgorithm[],
    mirrors: readonly WebSeedMirror[],
  ): Build | undefined {
    const ahead = this.builds.get(fingerprint)
    if (ahead === undefined || mirrors.length > 0 || ahead.listed !== listed.join())
      return undefined
    return ahead.built
  }

  /** The pass is done with these files, whether it took their build or not. */
  passed(fingerprint: string): void {
    if (this.builds.delete(fingerprint)) this.wake()
  }
}
