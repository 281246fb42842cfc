import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { MetainfoError, parseTorrent } from '../lib/metainfo/index.ts'
import { runCli } from './cli.ts'
import { libtorrent, systemPython } from './tools.ts'

// libtorrent's own test torrents and its verdicts on them (see the folder's README): our parser
// must agree, file by file, except where the README's "Hostile input" section says why not.
const dir = fileURLToPath(new URL('./fixtures/libtorrent-corpus/', import.meta.url))
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
  good: string[]
  bad: Record<string, string>
}
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.torrent'))
  .sort()

/**
 * Where we refuse what libtorrent loads: unsafe paths. libtorrent rewrites `..`, absolute paths,
 * empty segments and `/` inside a segment into something safe; we only ever read torrents to serve
 * or verify files, and a rewritten path is not the file the torrent names, so we refuse them.
 */
const unsafePaths = new Set([
  'absolute_filename.torrent',
  'empty_path.torrent',
  'empty_path_multi.torrent',
  'hidden_parent_path.torrent',
  'invalid_directory_name.torrent',
  'invalid_filename.torrent',
  'invalid_filename2.torrent',
  'invalid_name2.torrent',
  'parent_path.torrent',
  'slash_path.torrent',
  'slash_path2.torrent',
  'slash_path3.torrent',
  'symlink_filtered_path.torrent',
  'v2_invalid_filename.torrent',
  'v2_invalid_filename2.torrent',
])

/** Files test_torrent_info.cpp does not judge; our verdict, and why. */
const unjudged: Record<string, 'good' | 'bad'> = {
  'sample.torrent': 'good',
  'v2_empty_file.torrent': 'good', // BEP 52: an empty file has no pieces root
  'v2_hybrid-missing-tailpad.torrent': 'good', // libtorrent loads it too
  // A piece layer that does not hash to its root: libtorrent notices only when it uses it.
  'v2_invalid_root_hash.torrent': 'bad',
}

function verdict(file: string): {
  ok: boolean
  error?: unknown
  hashes?: [string | null, string | null]
} {
  try {
    const t = parseTorrent(readFileSync(path.join(dir, file)))
    return {
      ok: true,
      hashes: [t.infoHash?.toString('hex') ?? null, t.infoHashV2?.toString('hex') ?? null],
    }
  } catch (error) {
    return { ok: false, error }
  }
}

describe("the metainfo parser on libtorrent's test torrents", () => {
  it('has a verdict for every file in the corpus', () => {
    expect(files.length).toBe(108)
    for (const f of files) {
      const judged = expected.good.includes(f) || f in expected.bad || f in unjudged
      expect(judged, f).toBe(true)
    }
  })

  it.each(files)('%s', (file) => {
    const got = verdict(file)
    // Whatever the input, a refusal is one MetainfoError, never a crash.
    if (!got.ok) expect(got.error, String(got.error)).toBeInstanceOf(MetainfoError)
    if (unsafePaths.has(file)) {
      expect(got.ok).toBe(false)
      expect((got.error as MetainfoError).code).toBe('bad-path')
    } else if (file in unjudged) {
      expect(got.ok ? 'good' : 'bad').toBe(unjudged[file])
    } else {
      expect(got.ok ? 'good' : 'bad', got.ok ? 'accepted' : String(got.error)).toBe(
        expected.good.includes(file) ? 'good' : 'bad',
      )
    }
  })

  it.skipIf(!libtorrent().found)(
    `gives the info-hashes libtorrent gives for every torrent both accept ${libtorrent().reason}`,
    () => {
      const script = `
import json, os, sys, libtorrent as lt
out = {}
for f in sys.argv[2:]:
    try:
        ih = lt.torrent_info(os.path.join(sys.argv[1], f)).info_hashes()
        out[f] = [str(ih.v1) if ih.has_v1() else None, str(ih.v2) if ih.has_v2() else None]
    except Exception:
        pass
print(json.dumps(out))
`
      const r = spawnSync(systemPython, ['-c', script, dir, ...files], { encoding: 'utf8' })
      const theirs = JSON.parse(r.stdout) as Record<string, [string | null, string | null]>
      let compared = 0
      for (const f of files) {
        const ours = verdict(f)
        if (!ours.ok || !theirs[f]) continue
        expect(ours.hashes, f).toEqual(theirs[f])
        compared++
      }
      expect(compared).toBeGreaterThan(40)
    },
  )

  it('answers a dictionary where a number belongs with one line naming the file', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises')
    const os = await import('node:os')
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-corpus-'))
    try {
      const file = path.join(tmp, 'odd.torrent')
      await writeFile(file, 'd4:infod12:meta versiondeee')
      const r = await runCli(['info', file])
      expect(r.code).toBe(2)
      expect(r.stderr.trim().split('\n')).toEqual([
        `mirrorseed: ${file}: info["meta version"] must be an integer`,
      ])
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  })
})
