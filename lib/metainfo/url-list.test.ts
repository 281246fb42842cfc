import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createTorrent, parseTorrent } from './index.ts'
import { withWebSeeds } from './url-list.ts'

/** SHA-1 of the bytes between `4:info` and the dict's end, found by hand, not by our decoder. */
function infoHashByHand(bytes: Buffer): string {
  const at = bytes.indexOf('4:infod') + '4:info'.length
  const end = bytes.lastIndexOf(
    'e',
    bytes.indexOf('8:url-list') === -1 ? bytes.length - 2 : bytes.indexOf('8:url-list') - 1,
  )
  return createHash('sha1')
    .update(bytes.subarray(at, end + 1))
    .digest('hex')
}

describe('withWebSeeds', () => {
  it('replaces url-list and keeps the info bytes, so the info-hash is unchanged', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-urllist-'))
    try {
      await writeFile(path.join(dir, 'x.iso'), Buffer.alloc(40_000, 7))
      const { bytes, torrent } = await createTorrent({
        name: 'x.iso',
        files: [{ path: ['x.iso'], source: path.join(dir, 'x.iso') }],
        trackers: [['http://seed.example/announce']],
        webSeeds: ['http://seed.example/webseed/'],
        comment: 'kept',
        creationDate: 1_700_000_000,
      })
      const urls = ['http://seed.example/webseed/', 'https://mirror.example/gentoo/']
      const rewritten = withWebSeeds(bytes, urls)
      const parsed = parseTorrent(rewritten)
      expect(parsed.urlList).toEqual(urls)
      expect(parsed.infoHash!.equals(torrent.infoHash!)).toBe(true)
      expect(infoHashByHand(rewritten)).toBe(torrent.infoHash!.toString('hex'))
      expect(parsed.info.equals(torrent.info)).toBe(true)
      expect(parsed.comment).toBe('kept')
      expect(parsed.creationDate).toBe(1_700_000_000)
      expect(parsed.announce).toBe('http://seed.example/announce')

      const none = parseTorrent(withWebSeeds(rewritten, []))
      expect(none.urlList).toEqual([])
      expect(none.infoHash!.equals(torrent.infoHash!)).toBe(true)
      // Same list again: the same bytes (a rewrite that changes nothing is not a change).
      expect(withWebSeeds(rewritten, urls).equals(rewritten)).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('keeps info bytes a foreign encoder wrote, even unsorted', () => {
    // info keys out of order: a re-encode would sort them and change the info-hash.
    const info = Buffer.from(
      'd6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae',
    )
    const foreign = Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')])
    const out = withWebSeeds(foreign, ['http://m.example/'])
    expect(out.includes(info)).toBe(true)
    expect(out.toString('latin1')).toBe(
      `d4:info${info.toString('latin1')}8:url-listl17:http://m.example/ee`,
    )
  })
})
