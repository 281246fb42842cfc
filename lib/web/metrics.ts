import { Hono } from 'hono'
import { statusTotals } from '../catalog/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { listMirrors } from '../mirrors/index.ts'
import { log } from '../log/index.ts'

/** One sample of a metric family: its labels (maybe none) and value. */
export interface Sample {
  labels?: Record<string, string>
  value: number
}

type Collect = () => number | Sample[] | undefined | Promise<number | Sample[] | undefined>

interface Family {
  name: string
  help: string
  type: 'counter' | 'gauge'
  collect: Collect
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/**
 * Metric families rendered in the Prometheus text format 0.0.4. Each family reads its value
 * when scraped from a collect function, so nothing here holds a second copy of a count the
 * tracker, seeder or web seed already keeps. A collect that gives `undefined` (a role this node
 * does not run) leaves its family out; one that throws is logged and left out, and the rest of
 * the scrape still answers.
 *
 * @example
 * const registry = new MetricsRegistry()
 * registry.gauge('mirrorseed_tracker_peers', 'Peers in all swarms.', () => tracker.peerTotal)
 * await registry.render()
 */
export class MetricsRegistry {
  private readonly families: Family[] = []
  /** Calls of `collect` that threw, across scrapes. */
  failures = 0

  counter(name: string, help: string, collect: Collect): this {
    return this.add({ name, help, type: 'counter', collect })
  }

  gauge(name: string, help: string, collect: Collect): this {
    return this.add({ name, help, type: 'gauge', collect })
  }

  async render(): Promise<string> {
    const out: string[] = []
    for (const family of this.families) {
      let result: Awaited<ReturnType<Collect>>
      try {
        result = await family.collect()
      } catch (err) {
        this.failures++
        log.warn('metric not collected', { metric: family.name, error: err })
        continue
      }
      if (result === undefined) continue
      const samples = typeof result === 'number' ? [{ value: result }] : result
      out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`)
      out.push(`# TYPE ${family.name} ${family.type}`)
      for (const s of samples) out.push(`${family.name}${labels(s.labels)} ${value(s.value)}`)
    }
    return out.length ? `${out.join('\n')}\n` : ''
  }

  private add(family: Family): this {
    if (!metricName.test(family.name)) throw new Error(`invalid metric name: ${family.name}`)
    if (this.families.some((f) => f.name === family.name)) {
      throw new Error(`metric registered twice: ${family.name}`)
    }
    this.families.push(family)
    return this
  }
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function labels(set: Record<string, string> | undefined): string {
  if (!set) return ''
  const parts = Object.entries(set).map(([k, v]) => {
    if (!labelName.test(k)) throw new Error(`invalid label name: ${k}`)
    return `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`
  })
  return parts.length ? `{${parts.join(',')}}` : ''
}

function value(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

/** What the scanner did since the process started: what `/metrics` reports about scans. */
export class ScanTally {
  scans = 0
  failedScans = 0
  bytesHashed = 0
  hashSeconds = 0
  releasesFailed = 0
  /** Entries the last full pass could not read or write (each a `problem` event). */
  problems = 0

  /** One finished reconcile pass (the generator's `ReconcileSummary`). */
  record(summary: {
    bytesHashed: number
    seconds: number
    failed: readonly unknown[]
    problems?: readonly unknown[]
    scope?: string
  }): void {
    this.scans++
    this.bytesHashed += summary.bytesHashed
    this.hashSeconds += summary.seconds
    this.releasesFailed += summary.failed.length
    if (!summary.scope) this.problems = summary.problems?.length ?? 0
  }

  /** A pass that threw before it finished. */
  scanFailed(): void {
    this.failedScans++
  }
}

/**
 * Where `/metrics` reads the live numbers. Every source is a plain function, so this module
 * imports none of the tracker, seeder or web-seed classes; a source a node does not run is left
 * out (or returns undefined) and its families are not rendered.
 */
export interface MetricsSources {
  /** Torrents by status and mirrors by health are read from here at each scrape. */
  database?: DatabaseHandle
  tracker?: () =>
    { announces?: number; scrapes?: number; torrents: number; peers: number } | undefined
  /** The seeder's `stats()`: bytes sent on the peer wire. */
  seeder?: () => { uploaded: number; connections: number } | undefined
  /** The web seed's `stats()`: bytes served over HTTP. */
  webSeed?: () => { bytesServed: number; requests: number } | undefined
  scans?: () => ScanTally | undefined
  /**
   * Per torrent: bytes the origin (seeder and web seed) sent since start, and the bytes the
   * swarm delivered by estimate (the tracker's completions × size).
   */
  egress?: () =>
    Array<{ infoHash: string; name: string; originBytes: number; swarmBytes: number }> | undefined
  /** Background work that failed and will be retried, by task (`backgroundFailures`). */
  background?: () => ReadonlyMap<string, number>
  /** Database errors seen elsewhere in the process (tracker flushes, publisher, …). */
  databaseErrors?: () => number
}

/**
 * The appliance's metric families over `sources`. Hashing throughput is two counters, bytes and
 * seconds: `rate(mirrorseed_hashed_bytes_total[5m]) / rate(mirrorseed_hashing_seconds_total[5m])`
 * is bytes per second of hashing, which a gauge sampled between scans would miss.
 */
export function applianceMetrics(sources: MetricsSources): MetricsRegistry {
  const registry = new MetricsRegistry()
  const { database } = sources
  let ownDatabaseErrors = 0
  const query = async <T>(
    run: (database: DatabaseHandle) => Promise<T>,
  ): Promise<T | undefined> => {
    if (!database) return undefined
    try {
      return await run(database)
    } catch (err) {
      ownDatabaseErrors++
      throw err
    }
  }
  const tracker = () => sources.tracker?.()
  const seeder = () => sources.seeder?.()
  const webSeed = () => sources.webSeed?.()
  const scans = () => sources.scans?.()
  const egress = (key: 'originBytes' | 'swarmBytes') =>
    sources.egress?.()?.map((t) => ({
      labels: { infohash: t.infoHash, name: t.name },
      value: t[key],
    }))

  registry
    .counter(
      'mirrorseed_tracker_announces_total',
      'Announces answered (HTTP and UDP).',
      () => tracker()?.announces,
    )
    .counter(
      'mirrorseed_tracker_scrapes_total',
      'Scrapes answered (HTTP and UDP).',
      () => tracker()?.scrapes,
    )
    .gauge('mirrorseed_tracker_torrents', 'Torrents the tracker tracks.', () => tracker()?.torrents)
    .gauge(
      'mirrorseed_tracker_peers',
      'Peers in all swarms, our own seeder not included.',
      () => tracker()?.peers,
    )
    .gauge('mirrorseed_torrents', 'Torrents in the database, by status.', () =>
      query(async (d) => {
        const by = await statusTotals(d.db)
        return (['active', 'superseded', 'removed'] as const).map((status) => ({
          labels: { status },
          value: by[status].torrents,
        }))
      }),
    )
    .counter('mirrorseed_uploaded_bytes_total', 'Bytes uploaded, by the way they left.', () => {
      const peer = seeder()
      const web = webSeed()
      if (!peer && !web) return undefined
      const samples: Sample[] = []
      if (peer) samples.push({ labels: { via: 'peer' }, value: peer.uploaded })
      if (web) samples.push({ labels: { via: 'webseed' }, value: web.bytesServed })
      return samples
    })
    .counter(
      'mirrorseed_origin_bytes_total',
      'Bytes the origin sent per torrent (seeder and web seed), since start.',
      () => egress('originBytes'),
    )
    .counter(
      'mirrorseed_swarm_bytes_estimate_total',
      'Bytes downloaders got per torrent, by estimate: completions counted by the tracker × size.',
      () => egress('swarmBytes'),
    )
    .gauge(
      'mirrorseed_seeder_connections',
      'Peer connections open to our seeder.',
      () => seeder()?.connections,
    )
    .counter(
      'mirrorseed_webseed_requests_total',
      'Web-seed requests answered.',
      () => webSeed()?.requests,
    )
    .counter('mirrorseed_scans_total', 'Reconcile passes over the mirror tree, by result.', () => {
      const s = scans()
      return (
        s && [
          { labels: { result: 'ok' }, value: s.scans },
          { labels: { result: 'failed' }, value: s.failedScans },
        ]
      )
    })
    .counter(
      'mirrorseed_release_failures_total',
      'Releases whose files did not match their published digests.',
      () => scans()?.releasesFailed,
    )
    .counter(
      'mirrorseed_background_failures_total',
      'Background work (timers, flushes, checks, notices) that failed and is retried, by task.',
      () => {
        const by = sources.background?.()
        return by && [...by].map(([task, value]) => ({ labels: { task }, value }))
      },
    )
    .gauge(
      'mirrorseed_scan_problems',
      'Entries the last pass could not read or write (permissions, names, full or read-only disk).',
      () => scans()?.problems,
    )
    .counter(
      'mirrorseed_hashed_bytes_total',
      'Bytes read and hashed by scans.',
      () => scans()?.bytesHashed,
    )
    .counter(
      'mirrorseed_hashing_seconds_total',
      'Seconds spent in scans that hashed.',
      () => scans()?.hashSeconds,
    )
    .gauge('mirrorseed_mirrors', 'Mirrors by health; disabled ones apart.', () =>
      query(async (d) => {
        const rows = await listMirrors(d.db)
        const by = { up: 0, down: 0, unknown: 0, disabled: 0 }
        for (const r of rows) by[r.enabled ? r.status : 'disabled']++
        return Object.entries(by).map(([status, value]) => ({ labels: { status }, value }))
      }),
    )
    .gauge('mirrorseed_mirror_up', 'Whether each enabled mirror passed its last check.', () =>
      query(async (d) => {
        const rows = (await listMirrors(d.db)).filter((r) => r.enabled)
        return rows.map((r) => ({ labels: { mirror: r.name }, value: r.status === 'up' ? 1 : 0 }))
      }),
    )
    // Last, so that a query above that failed in this very scrape is already counted.
    .counter('mirrorseed_database_errors_total', 'Database operations that failed.', () =>
      database || sources.databaseErrors
        ? ownDatabaseErrors + (sources.databaseErrors?.() ?? 0)
        : undefined,
    )
  return registry
}

/**
 * `GET /metrics` for Prometheus (text format 0.0.4).
 *
 * @example
 * app.route('/', metricsRoutes(applianceMetrics({ database, tracker: () => … })))
 */
export function metricsRoutes(registry: MetricsRegistry): Hono {
  return new Hono().get('/metrics', async (c) =>
    c.body(await registry.render(), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
      'Cache-Control': 'no-store',
    }),
  )
}
