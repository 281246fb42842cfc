import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import * as schema from './schema.ts'

/**
 * One owner per table (docs/architecture.md, "Tables"): only the owning area imports a table
 * from the schema or names it in SQL; every other area calls the owner's functions. That holds
 * for tests and benchmarks too: an area's own tests may use its own tables, and everything else
 * (other areas' tests, `test/`, `bench/`) sets up and reads state through the owners' functions
 * or the HTTP API, so a column change is still found in one area.
 */
const owners: Record<string, string[]> = {
  catalog: ['torrents', 'torrentFiles', 'torrentStats', 'events', 'eventKinds', 'EventKind'],
  mirrors: ['mirrors'],
  stats: ['statsDaily'],
}
const sqlNames: Record<string, string[]> = {
  catalog: ['torrents', 'torrent_files', 'torrent_stats', 'events'],
  mirrors: ['mirrors'],
  stats: ['stats_daily'],
}

const root = path.resolve(import.meta.dirname, '../..')
const checked = ['lib', 'apps', 'test', 'bench'].flatMap((dir) =>
  readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file) && !file.split(path.sep).includes('node_modules'))
    .map((file) => path.join(dir, file)),
)

/**
 * `lib/<area>/…` → area (its tests included); the app, `test/` and `bench/` each count as an
 * area that owns nothing.
 */
const areaOf = (file: string) => (file.startsWith('lib/') ? file.split('/')[1] : file.split('/')[0])

const schemaFile = path.join(root, 'lib/db/schema.ts')

/** The names a file (path relative to the repo) imports from the schema module. */
function schemaImports(file: string, source: string): string[] {
  const names: string[] = []
  for (const m of source.matchAll(/import\s+(type\s+)?([^;]*?)\s+from\s+'([^']+)'/g)) {
    if (path.resolve(root, path.dirname(file), m[3]) !== schemaFile) continue
    const list = /\{([^}]*)\}/.exec(m[2])
    if (!list)
      names.push(m[2].trim()) // `* as schema`: everything
    else
      names.push(
        ...list[1]
          .split(',')
          .map((n) => n.replace(/^\s*type\s+/, '').trim())
          .filter(Boolean),
      )
  }
  return names
}

describe('table owners', () => {
  it('the schema module exports exactly the tables the owners list', () => {
    const tables = Object.entries(schema)
      .filter(([, value]) => typeof value === 'object' && value !== null && 'getSQL' in value)
      .map(([name]) => name)
      .sort()
    const owned = Object.values(owners)
      .flat()
      .filter((name) => name in schema && name !== 'eventKinds')
      .sort()
    expect(tables).toEqual(owned)
  })

  it('lib/db does not re-export the schema', () => {
    const index = readFileSync(path.join(root, 'lib/db/index.ts'), 'utf8')
    expect(index).not.toMatch(/schema/)
  })

  it('no file outside a table’s owner imports that table', () => {
    const strays: string[] = []
    for (const file of checked) {
      const area = areaOf(file)
      if (area === 'db') continue
      for (const name of schemaImports(file, readFileSync(path.join(root, file), 'utf8'))) {
        if (!(owners[area] ?? []).includes(name)) strays.push(`${file} imports ${name}`)
      }
    }
    expect(strays).toEqual([])
  })

  it('no file outside a table’s owner names that table in SQL', () => {
    const strays: string[] = []
    for (const file of checked) {
      const area = areaOf(file)
      if (area === 'db') continue
      const source = readFileSync(path.join(root, file), 'utf8')
      for (const [owner, tables] of Object.entries(sqlNames)) {
        if (owner === area) continue
        for (const table of tables) {
          const named = new RegExp(`sql\`[^\`]*\\b(?:from|into|update|join)\\s+"?${table}\\b`, 'i')
          if (named.test(source)) strays.push(`${file} names ${table}`)
        }
      }
    }
    expect(strays).toEqual([])
  })

  it('finds a stray when there is one', () => {
    // The scanner itself: a file of another area importing a table is reported.
    expect(
      schemaImports('lib/web/x.ts', `import { torrents, type MirrorRow } from '../db/schema.ts'`),
    ).toEqual(['torrents', 'MirrorRow'])
    expect(
      schemaImports('apps/mirrorseed/x.ts', `import * as schema from '../../lib/db/schema.ts'`),
    ).toEqual(['* as schema'])
    // Tests count for the area they sit in; `test/` and `bench/` own nothing.
    expect(areaOf('lib/stats/rollup.test.ts')).toBe('stats')
    expect(areaOf('test/mirrors-interop.test.ts')).toBe('test')
    expect(areaOf('bench/web.ts')).toBe('bench')
    expect(checked).toContain('bench/web.ts')
    expect(checked).toContain('lib/web/routes.test.ts')
  })
})
