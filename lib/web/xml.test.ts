import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { XMLParser } from 'fast-xml-parser'
import { createTorrent } from '../metainfo/index.ts'
import { tool } from '../../test/tools.ts'
import { renderFeed } from './feed.ts'
import { renderMetalink } from './metalink.ts'
import { encodeSegments, escapeXml } from './xml.ts'

const xmllint = tool('xmllint', ['--version'])

/** xmllint's verdict: null when well-formed, else its first complaint. */
function lint(doc: string): string | null {
  const r = spawnSync('xmllint', ['--noout', '-'], { input: doc, encoding: 'utf8' })
  return r.status === 0 ? null : r.stderr.split('\n')[0]!
}

// File names a hostile (or careless) uploader can put on a mirror: C0 controls, a terminal
// escape, XML 1.0's two non-characters, lone surrogates, and the markup characters.
const hostile = [
  'install\u0001amd64.iso',
  'notes\u001b[31mred.txt',
  'tab\there\nnewline\rcr.txt',
  'bom\ufffe\uffffend.txt',
  'lone\ud800high.txt',
  'lone\udc00low.txt',
  `<&>'".txt`,
]

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe.skipIf(!xmllint.found)(`XML from hostile file names ${xmllint.reason}`, () => {
  it('leaves a text node and an attribute well-formed for every UTF-16 code unit', () => {
    const all = Array.from({ length: 0x10000 }, (_, i) => String.fromCharCode(i)).join('')
    const doc = `<?xml version="1.0" encoding="UTF-8"?>\n<r a="${escapeXml(all)}">${escapeXml(all)}</r>\n`
    expect(lint(doc)).toBeNull()
    // Tab, LF and CR in an attribute come back as they were, not as spaces.
    const attr = spawnSync('xmllint', ['--xpath', 'string(/r/@a)', '-'], {
      input: `<r a="${escapeXml('a\tb\nc\rd')}"/>`,
      encoding: 'utf8',
    })
    expect(attr.stdout.replace(/\n$/, '')).toBe('a\tb\nc\rd')
    expect(escapeXml('a\u0001b')).toBe('a\ufffdb')
  })

  it('keeps /feed.xml and a metalink well-formed for a release with such names', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-xml-'))
    dirs.push(dir)
    const files = []
    for (const [i, name] of hostile.entries()) {
      const onDisk = path.join(dir, `f${i}`) // the disk holds any name; keep it simple here
      await writeFile(onDisk, `file ${i}\n`)
      files.push({ path: ['sub\u0007dir', name], source: onDisk })
    }
    const releaseName = 'release\u0002\ufffe'
    const { bytes, torrent } = await createTorrent({
      name: releaseName,
      files,
      format: 'hybrid',
      webSeeds: ['http://seed.example/webseed/x\u0003/'],
    })
    const torrentUrl = `http://seed.example/torrents/${encodeSegments('x\u0003', releaseName)}.torrent`
    const metalink = renderMetalink({
      torrent,
      releaseDir: 'x\u0003',
      sha256: new Map(),
      torrentUrl,
      selfUrl: torrentUrl.replace('.torrent', '.meta4'),
      published: new Date(),
    })
    expect(lint(metalink)).toBeNull()
    const feed = renderFeed(
      {
        title: 'seed',
        link: 'http://seed.example/',
        selfUrl: 'http://seed.example/feed.xml',
        description: 'd',
      },
      [
        {
          infoHash: torrent.infoHash!.toString('hex'),
          name: releaseName,
          releaseDir: 'x\u0003\ud800',
          size: torrent.length,
          torrentUrl,
          torrentLength: bytes.length,
          magnet: 'magnet:?dn=\u0001',
          published: new Date(),
        },
      ],
    )
    expect(lint(feed)).toBeNull()
    // The title a reader shows: the control character replaced, the rest as it was.
    const doc = new XMLParser().parse(feed)
    expect(doc.rss.channel.item.title).toBe('release\ufffd\ufffd')
  })
})
