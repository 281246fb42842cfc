import path from 'node:path'
import { filesOf, newestActive } from '../catalog/index.ts'
import type { ResolvedConfig } from '../config/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { backgroundFailure, log } from '../log/index.ts'
import { parseTorrent } from '../metainfo/index.ts'
import { checkMirror, type MirrorCheck } from './check.ts'
import { MirrorError } from './errors.ts'
import { probesFor, type Probe } from './probe.ts'
import { enabledMirrors, getMirror, recordCheck, type MirrorRow } from './store.ts'

export interface MirrorCheckResult extends Omit<MirrorCheck, 'status'> {
  /** `unknown` only when there was nothing to check against yet. */
  status: MirrorRow['status']
  name: string
  baseUrl: string
  /** The status before this check. */
  before: MirrorRow['status']
}

export interface CheckOptions {
  config: ResolvedConfig
  database: DatabaseHandle
  /** Only these mirrors (enabled or not); every enabled mirror when absent. */
  names?: string[]
  /** Where the published symlink folders are (publish's `outputLayout`): what mirrors carry. */
  layout: ProbeLayout
  /**
   * Rewrites the torrents' `url-list` to the healthy mirrors (publish's `refreshWebSeeds`): called
   * when a mirror's health changed, and each round, on a node that has the tree.
   */
  refreshWebSeeds?: () => Promise<unknown>
}

/** The one thing a check needs of publish's output layout. */
export interface ProbeLayout {
  symlinksDir(releaseDir: string): string
}

/**
 * The probes of the newest active torrent: every mirror carries it if it carries anything
 * recent, and one torrent per round keeps a check to a few requests per mirror.
 */
export async function loadProbes(
  layout: ProbeLayout,
  database: DatabaseHandle,
): Promise<{ probes: Probe[]; torrent: string } | undefined> {
  const row = await newestActive(database.db)
  if (!row) return undefined
  const files = await filesOf(database.db, row.id)
  const artifact = files.find((f) => f.role === 'artifact')
  if (!artifact) return undefined
  const probes = probesFor({
    torrent: parseTorrent(row.metainfo),
    releaseDir: row.releaseDir,
    symlinksDir: layout.symlinksDir(row.releaseDir),
    artifact: path.posix.basename(artifact.path),
    sha256: new Map(
      files.map((f) => [path.posix.basename(f.path), { size: f.size, sha256: f.sha256 }]),
    ),
  })
  return probes.length ? { probes, torrent: `${row.releaseDir}/${row.name}` } : undefined
}

/**
 * One round: checks the mirrors (a few at a time), records each outcome (an event on every
 * change of status), then rewrites the `url-list` of the torrents if the healthy set changed.
 * With no published torrent there is nothing to ask for: the mirrors keep their status.
 */
export async function checkMirrors(options: CheckOptions): Promise<MirrorCheckResult[]> {
  const { config, database } = options
  const db = database.db
  const chosen = options.names
    ? await Promise.all(options.names.map((name) => getMirror(db, name)))
    : await enabledMirrors(db)
  if (chosen.length === 0) return []
  // Nothing to check against: every mirror keeps its status, and the answer says why.
  const unchecked = (why: string): MirrorCheckResult[] =>
    chosen.map((m) => ({
      name: m.name,
      baseUrl: m.baseUrl,
      before: m.status,
      status: m.status,
      latencyMs: null,
      problem: null,
      error: why,
    }))
  let source: Awaited<ReturnType<typeof loadProbes>>
  try {
    source = await loadProbes(options.layout, database)
  } catch (err) {
    if (err instanceof MirrorError) return unchecked(err.message)
    throw err
  }
  if (!source) return unchecked('no published torrent to check against yet')
  const results: MirrorCheckResult[] = []
  const queue = [...chosen]
  const worker = async () => {
    for (let mirror = queue.shift(); mirror; mirror = queue.shift()) {
      const check = await checkMirror(mirror.baseUrl, source.probes, {
        timeoutMs: config.mirrors.timeoutSeconds * 1000,
      })
      const before = await recordCheck(db, mirror, check)
      if (before !== check.status) {
        const fields = { mirror: mirror.name, torrent: source.torrent }
        if (check.status === 'up') log.info('mirror up', { ...fields, ms: check.latencyMs })
        else log.warn('mirror down', { ...fields, why: check.error })
      }
      results.push({ name: mirror.name, baseUrl: mirror.baseUrl, before, ...check })
    }
  }
  await Promise.all(
    Array.from({ length: Math.min(config.mirrors.concurrency, chosen.length) }, worker),
  )
  // Only a node with the tree rewrites torrents (it passes `refreshWebSeeds`); the others'
  // changes reach it at its next round.
  if (options.refreshWebSeeds && results.some((r) => r.before !== r.status)) {
    await options.refreshWebSeeds()
  }
  return results.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * Checks every enabled mirror now and every `mirrors.checkSeconds` after, until closed. A round
 * that fails (the database away) is logged and the next one tries again.
 *
 * @example
 * const checks = startMirrorChecks({ config, database, layout: outputLayout(config) })
 * // on shutdown
 * await checks.close()
 */
export function startMirrorChecks(options: CheckOptions): { close(): Promise<void> } {
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  const round = () => {
    running = (async () => {
      try {
        // The torrents may have been published while no check ran (mirrors changed by hand in
        // the database, a node restarted): the url-lists follow the recorded health.
        await checkMirrors(options)
        await options.refreshWebSeeds?.()
      } catch (err) {
        backgroundFailure('mirror check', err)
      }
      if (!closed) timer = setTimeout(round, options.config.mirrors.checkSeconds * 1000)
    })()
  }
  round()
  return {
    async close() {
      closed = true
      clearTimeout(timer)
      await running
    },
  }
}
