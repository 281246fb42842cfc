import { describe, it, expect } from 'vitest'
import { encode } from '../bencode/index.ts'
import { magnetLink } from './magnet.ts'
import { parseTorrent } from './parse.ts'

describe('magnetLink', () => {
  it('carries btih, btmh, dn, xl without pads, tr and ws', () => {
    const root = Buffer.alloc(32, 9)
    const torrent = parseTorrent(
      encode({
        announce: 'http://t.example/announce',
        'announce-list': [['http://t.example/announce'], ['udp://t.example:6969']],
        'url-list': ['http://m.example/pub/'],
        info: {
          name: 'install amd64',
          'piece length': 16384,
          'meta version': 2,
          pieces: Buffer.alloc(40),
          files: [
            { length: 3, path: ['a'] },
            { attr: 'p', length: 16381, path: ['.pad', '16381'] },
            { length: 4, path: ['b'] },
            { attr: 'p', length: 16380, path: ['.pad', '16380'] },
          ],
          'file tree': {
            a: { '': { length: 3, 'pieces root': root } },
            b: { '': { length: 4, 'pieces root': root } },
          },
        },
        'piece layers': new Map(),
      }),
    )
    const link = magnetLink(torrent)
    const v1 = torrent.infoHash!.toString('hex')
    const v2 = torrent.infoHashV2!.toString('hex')
    expect(link).toBe(
      `magnet:?xt=urn:btih:${v1}&xt=urn:btmh:1220${v2}&dn=install%20amd64&xl=7` +
        '&tr=http%3A%2F%2Ft.example%2Fannounce&tr=udp%3A%2F%2Ft.example%3A6969&ws=http%3A%2F%2Fm.example%2Fpub%2F',
    )
    expect(magnetLink(torrent, { trackers: [], webSeeds: [] })).toBe(
      `magnet:?xt=urn:btih:${v1}&xt=urn:btmh:1220${v2}&dn=install%20amd64&xl=7`,
    )
  })
})
