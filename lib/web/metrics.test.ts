import { describe, expect, it } from 'vitest'
import { recordPublished } from '../catalog/index.ts'
import { addMirror, recordCheck } from '../mirrors/index.ts'
import { publishedRow } from '../../test/catalog-rows.ts'
import { databaseKinds } from '../../test/databases.ts'
import { applianceMetrics, metricsRoutes, MetricsRegistry, ScanTally } from './index.ts'

interface Parsed {
  types: Map<string, string>
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>
}

/**
 * The exposition format 0.0.4, read line by line as Prometheus reads it: `# HELP` and `# TYPE`
 * before a family's samples, `name{label="value",…} value`, escapes in label values.
 */
function parseExposition(text: string): Parsed {
  expect(text.endsWith('\n')).toBe(true)
  const types = new Map<string, string>()
  const helped = new Set<string>()
  const samples: Parsed['samples'] = []
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (m) {
      expect(helped.has(m[1]!), `HELP twice for ${m[1]}`).toBe(false)
      helped.add(m[1]!)
      continue
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (m) {
      expect(types.has(m[1]!), `TYPE twice for ${m[1]}`).toBe(false)
      types.set(m[1]!, m[2]!)
      continue
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    expect(m, `not a sample line: ${JSON.stringify(line)}`).not.toBeNull()
    const [, name, rawLabels, rawValue] = m!
    expect(types.has(name!), `${name} sampled before its TYPE`).toBe(true)
    const labels: Record<string, string> = {}
    if (rawLabels) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy
      let consumed = 0
      for (const l of rawLabels.matchAll(re)) {
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
        consumed += l[0].length
      }
      expect(consumed, `bad labels: ${rawLabels}`).toBe(rawLabels.length)
    }
    const value = Number(rawValue === '+Inf' ? Infinity : rawValue)
    expect(Number.isNaN(value) && rawValue !== 'NaN', `bad value: ${rawValue}`).toBe(false)
    samples.push({ name: name!, labels, value })
  }
  return { types, samples }
}

function sample(parsed: Parsed, name: string, labels: Record<string, string> = {}) {
  return parsed.samples.find(
    (s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels),
  )?.value
}

describe('MetricsRegistry', () => {
  it('escapes label values and help text, and leaves out a family that fails', async () => {
    const registry = new MetricsRegistry()
      .gauge('odd_labels', 'Help with a \\ and\na newline.', () => [
        { labels: { mirror: 'a "quoted"\\name\nnext' }, value: 1.5 },
      ])
      .counter('broken_total', 'Throws.', () => {
        throw new Error('boom')
      })
      .counter('absent_total', 'A role this node does not run.', () => undefined)
    const parsed = parseExposition(await registry.render())
    expect(sample(parsed, 'odd_labels', { mirror: 'a "quoted"\\name\nnext' })).toBe(1.5)
    expect(parsed.types.has('broken_total')).toBe(false)
    expect(parsed.types.has('absent_total')).toBe(false)
    expect(registry.failures).toBe(1)
  })

  it('refuses a name Prometheus would not accept', () => {
    expect(() => new MetricsRegistry().gauge('bad-name', 'x', () => 1)).toThrow(/bad-name/)
  })
})

describe.each(databaseKinds)('GET /metrics on %s', (_name, kind) => {
  it('reports the live numbers and the database state in the text format', async () => {
    const database = await kind.open()
    try {
      // Two active torrents, and a third that replaces the first: two active, one superseded.
      for (const [name, hash] of [
        ['t0', '0'],
        ['t1', '1'],
        ['t0', '2'],
      ])
        await recordPublished(database.db, publishedRow(name, { infoHash: hash.repeat(40) }))
      for (const [name, status, enabled] of [
        ['a', 'up', true],
        ['b', 'down', true],
        ['c', 'up', false],
      ] as const) {
        const mirror = await addMirror(database.db, { name, baseUrl: `http://${name}`, enabled })
        await recordCheck(database.db, mirror, { status, latencyMs: 5, error: null })
      }
      const scans = new ScanTally()
      scans.record({ bytesHashed: 3_000_000, seconds: 1.5, failed: [] })
      scans.record({ bytesHashed: 1_000_000, seconds: 0.5, failed: [{}] })
      scans.scanFailed()
      const app = metricsRoutes(
        applianceMetrics({
          database,
          tracker: () => ({ announces: 1234, scrapes: 5, torrents: 2, peers: 17 }),
          seeder: () => ({ uploaded: 9_876_543_210, connections: 4 }),
          webSeed: () => ({ bytesServed: 555, requests: 3 }),
          scans: () => scans,
          databaseErrors: () => 2,
        }),
      )
      const res = await app.request('/metrics')
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      const m = parseExposition(await res.text())
      expect(m.types.get('mirrorseed_tracker_announces_total')).toBe('counter')
      expect(sample(m, 'mirrorseed_tracker_announces_total')).toBe(1234)
      expect(sample(m, 'mirrorseed_tracker_peers')).toBe(17)
      expect(m.types.get('mirrorseed_torrents')).toBe('gauge')
      expect(sample(m, 'mirrorseed_torrents', { status: 'active' })).toBe(2)
      expect(sample(m, 'mirrorseed_torrents', { status: 'superseded' })).toBe(1)
      expect(sample(m, 'mirrorseed_torrents', { status: 'removed' })).toBe(0)
      expect(sample(m, 'mirrorseed_uploaded_bytes_total', { via: 'peer' })).toBe(9_876_543_210)
      expect(sample(m, 'mirrorseed_uploaded_bytes_total', { via: 'webseed' })).toBe(555)
      expect(sample(m, 'mirrorseed_scans_total', { result: 'ok' })).toBe(2)
      expect(sample(m, 'mirrorseed_scans_total', { result: 'failed' })).toBe(1)
      expect(sample(m, 'mirrorseed_hashed_bytes_total')).toBe(4_000_000)
      expect(sample(m, 'mirrorseed_hashing_seconds_total')).toBe(2)
      expect(sample(m, 'mirrorseed_mirrors', { status: 'up' })).toBe(1)
      expect(sample(m, 'mirrorseed_mirrors', { status: 'disabled' })).toBe(1)
      expect(sample(m, 'mirrorseed_mirror_up', { mirror: 'a' })).toBe(1)
      expect(sample(m, 'mirrorseed_mirror_up', { mirror: 'b' })).toBe(0)
      expect(sample(m, 'mirrorseed_mirror_up', { mirror: 'c' })).toBeUndefined()
      expect(sample(m, 'mirrorseed_database_errors_total')).toBe(2)
    } finally {
      await database.close()
    }
  })
})

describe('GET /metrics without a database', () => {
  it('still answers, and counts the failed queries as database errors', async () => {
    const kind = databaseKinds[0]![1]
    const database = await kind.open()
    await database.close()
    const app = metricsRoutes(
      applianceMetrics({ database, tracker: () => ({ torrents: 1, peers: 0 }) }),
    )
    const res = await app.request('/metrics')
    expect(res.status).toBe(200)
    const m = parseExposition(await res.text())
    expect(sample(m, 'mirrorseed_tracker_torrents')).toBe(1)
    expect(m.types.has('mirrorseed_torrents')).toBe(false)
    // Three queries failed: torrents by status, mirrors by health, mirror up.
    expect(sample(m, 'mirrorseed_database_errors_total')).toBe(3)
    // The roles this node does not run are left out rather than reported as zero.
    expect(m.types.has('mirrorseed_tracker_announces_total')).toBe(false)
    expect(m.types.has('mirrorseed_uploaded_bytes_total')).toBe(false)
  })
})
