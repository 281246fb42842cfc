import { describe, it, expect } from 'vitest'
import { createHash } from 'node:crypto'
import { encode, type Encodable } from '../bencode/index.ts'
import { parseTorrent } from './parse.ts'
import { MetainfoError } from './errors.ts'

const piece = Buffer.alloc(20, 1)
const v1 = (info: Record<string, Encodable | undefined>, outer: Record<string, Encodable> = {}) =>
  encode({
    ...outer,
    info: { name: 'x.iso', 'piece length': 16384, length: 10, pieces: piece, ...info },
  })

const reason = (bytes: Buffer): string => {
  try {
    parseTorrent(bytes)
  } catch (err) {
    expect(err).toBeInstanceOf(MetainfoError)
    return `${(err as MetainfoError).code}: ${(err as Error).message}`
  }
  return 'accepted'
}

describe('parseTorrent', () => {
  it('reads a single-file v1 torrent and everything outside info', () => {
    const t = parseTorrent(
      v1(
        {},
        {
          announce: 'http://t/announce',
          'announce-list': [['http://t/announce'], ['udp://t:6969']],
          'url-list': 'http://m/pub/',
          comment: 'hi',
          'created by': 'mktorrent 1.1',
          'creation date': 1700000000,
        },
      ),
    )
    expect(t.format).toBe('v1')
    expect(t.multiFile).toBe(false)
    expect(t.files).toEqual([
      { path: ['x.iso'], length: 10, offset: 0, pad: false, piecesRoot: null },
    ])
    expect(t.pieceCount).toBe(1)
    expect(t.announceList).toEqual([['http://t/announce'], ['udp://t:6969']])
    expect(t.urlList).toEqual(['http://m/pub/'])
    expect([t.comment, t.createdBy, t.creationDate]).toEqual(['hi', 'mktorrent 1.1', 1700000000])
    expect(t.infoHashV2).toBeNull()
  })

  it('hashes the info bytes as found, even when a foreign creator left keys unsorted', () => {
    const info = Buffer.from('d4:name1:x6:lengthi3e12:piece lengthi16384e6:pieces20:', 'latin1')
    const bytes = Buffer.concat([Buffer.from('d4:info'), info, piece, Buffer.from('ee')])
    const t = parseTorrent(bytes)
    const raw = Buffer.concat([info, piece, Buffer.from('e')])
    expect(t.info.equals(raw)).toBe(true)
    expect(t.infoHash!.equals(createHash('sha1').update(raw).digest())).toBe(true)
  })

  it('reads multi-file torrents with BEP 47 pads, with or without a pad path', () => {
    const t = parseTorrent(
      encode({
        info: {
          name: 'set',
          'piece length': 16384,
          pieces: Buffer.alloc(40),
          files: [
            { length: 3, path: ['a', 'b.txt'] },
            { attr: 'p', length: 16381 },
            { length: 5, path: ['c'] },
          ],
        },
      }),
    )
    expect(t.multiFile).toBe(true)
    expect(t.files.map((f) => [f.path.join('/'), f.offset, f.pad])).toEqual([
      ['a/b.txt', 0, false],
      ['.pad/16381', 3, true],
      ['c', 16384, false],
    ])
    expect(t.length).toBe(16389)
  })

  it('reads what libtorrent reads: a trailing newline, BEP 17 httpseeds, BEP 47 symlinks', () => {
    const info = { name: 'a', 'piece length': 16384, pieces: Buffer.alloc(20), length: 5 }
    const bytes = encode({ info, httpseeds: ['http://seed.example/seed.php'] })
    const t = parseTorrent(Buffer.concat([bytes, Buffer.from('\n')]))
    expect(t.infoHash).toEqual(parseTorrent(bytes).infoHash)
    expect(t.httpSeeds).toEqual(['http://seed.example/seed.php'])
    const files = [
      { length: 5, path: ['data'] },
      { attr: 'l', path: ['link'], 'symlink path': ['data'] },
    ]
    const linked = parseTorrent(encode({ info: { ...info, length: undefined, files } }))
    expect(linked.files.map((f) => f.path.join('/'))).toEqual(['data'])
    expect(linked.length).toBe(5)
  })

  it('refuses a torrent of no data, as libtorrent and Transmission do', () => {
    const info = { name: 'a', 'piece length': 16384, pieces: Buffer.alloc(0), length: 0 }
    expect(reason(encode({ info }))).toMatch(/^no-data/)
  })

  it('refuses malformed torrents with a reason', () => {
    expect(reason(Buffer.from('not a torrent'))).toMatch(/^bad-bencode/)
    expect(reason(encode({ announce: 'x' }))).toMatch(/^missing-key: info is missing/)
    expect(reason(v1({ name: undefined }))).toMatch(/^missing-key: info.name/)
    expect(reason(v1({ name: '' }))).toMatch(/^bad-name/)
    expect(reason(v1({ name: '..' }))).toMatch(/^bad-path/)
    expect(reason(v1({ 'piece length': 0 }))).toMatch(/^bad-piece-length/)
    expect(reason(v1({ 'piece length': -5 }))).toMatch(/^bad-type/)
    expect(reason(v1({ pieces: Buffer.alloc(19) }))).toMatch(/^bad-pieces: .*multiple of 20/)
    expect(reason(v1({ pieces: Buffer.alloc(40) }))).toMatch(
      /^bad-pieces: .*2 hashes but 10 bytes make 1/,
    )
    expect(reason(v1({ pieces: undefined }))).toMatch(/^missing-key: info.pieces/)
    expect(reason(v1({ length: undefined }))).toMatch(/^missing-key: info.length/)
    expect(reason(v1({ files: [{ length: 10, path: ['a'] }] }))).toMatch(/both length and files/)
    for (const [path, why] of [
      [['..', 'etc', 'passwd'], /"\.\." segment/],
      [['.'], /"\." segment/],
      [['a', ''], /empty segment/],
      [['/etc/passwd'], /"\/" inside/],
      [[], /non-empty list/],
    ] as const) {
      expect(reason(v1({ length: undefined, files: [{ length: 10, path: [...path] }] }))).toMatch(
        why,
      )
    }
  })

  it('refuses v2 torrents whose tree, layers or version do not hold up', () => {
    const root = Buffer.alloc(32, 7)
    const v2 = (
      tree: Encodable,
      extra: Record<string, Encodable> = {},
      outer: Record<string, Encodable> = {},
    ) =>
      encode({
        info: { name: 'd', 'piece length': 16384, 'meta version': 2, 'file tree': tree, ...extra },
        'piece layers': new Map(),
        ...outer,
      })
    const file = (length: number) => ({ '': { length, 'pieces root': root } })
    expect(reason(v2({ a: file(10) }))).toBe('accepted')
    expect(reason(v2({ a: file(10) }, { 'meta version': 3 }))).toMatch(/^unsupported-version/)
    expect(reason(v2({ a: file(10) }, { 'piece length': 20000 }))).toMatch(/^bad-piece-length/)
    expect(reason(v2({ '..': file(10) }))).toMatch(/^bad-path/)
    expect(reason(v2({ a: { '': { length: 10 } } }))).toMatch(/32-byte pieces root/)
    expect(reason(v2({ a: { '': { length: 10, 'pieces root': root }, b: file(1) } }))).toMatch(
      /sibling/,
    )
    expect(reason(v2({ '': { length: 1 } }))).toMatch(/root must not be a file/)
    expect(reason(v2({}))).toMatch(/^bad-file-tree/)
    // Larger than a piece: a layer may be missing (peers supply it, as libtorrent allows), but
    // one that is there must have the right size, hash to the root and belong to a file.
    expect(reason(v2({ a: file(40000) }))).toBe('accepted')
    expect(
      reason(v2({ a: file(40000) }, {}, { 'piece layers': new Map([[root, Buffer.alloc(64)]]) })),
    ).toMatch(/needs a piece layer of 96 bytes/)
    const stray = new Map([[Buffer.alloc(32, 9), Buffer.alloc(96)]])
    expect(reason(v2({ a: file(40000) }, {}, { 'piece layers': stray }))).toMatch(/of no file/)
    const layers = new Map([[root, Buffer.alloc(96)]])
    expect(reason(v2({ a: file(40000) }, {}, { 'piece layers': layers }))).toMatch(
      /does not hash to its pieces root/,
    )
    // Hybrid: the v1 files must be the same files, piece-aligned.
    expect(
      reason(
        v2(
          { a: file(10), b: file(10) },
          {
            pieces: Buffer.alloc(40),
            files: [
              { length: 10, path: ['a'] },
              { length: 10, path: ['b'] },
            ],
          },
        ),
      ),
    ).toMatch(/not aligned to a piece boundary/)
    expect(
      reason(
        v2({ a: file(10) }, { pieces: Buffer.alloc(20), files: [{ length: 11, path: ['a'] }] }),
      ),
    ).toMatch(/describe different files/)
  })
})

describe('parseTorrent fuzz', () => {
  it('answers mutated torrents with a Torrent or a MetainfoError, nothing else', () => {
    const root = createHash('sha256').update('x').digest()
    const base = encode({
      announce: 'http://t/a',
      info: {
        name: 'd',
        'piece length': 16384,
        'meta version': 2,
        pieces: Buffer.alloc(40, 3),
        files: [
          { length: 3, path: ['a'] },
          { attr: 'p', length: 16381, path: ['.pad', '16381'] },
          { length: 4, path: ['b', 'c'] },
        ],
        'file tree': {
          a: { '': { length: 3, 'pieces root': root } },
          b: { c: { '': { length: 4, 'pieces root': root } } },
        },
      },
      'piece layers': new Map(),
    })
    let seed = 7
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    const alphabet = Buffer.from('ilde0123456789:-p')
    const deadline = Date.now() + 10_000
    let runs = 0
    while (runs < 50_000 && Date.now() < deadline) {
      const input = Buffer.from(base)
      for (let e = 0; e < 1 + rand() * 3; e++)
        input[Math.floor(rand() * input.length)] = alphabet[Math.floor(rand() * alphabet.length)]
      try {
        parseTorrent(input)
      } catch (err) {
        if (!(err instanceof MetainfoError))
          throw new Error(`${String(err)} on ${input.toString('latin1')}`)
      }
      runs++
    }
    expect(runs).toBeGreaterThan(5_000)
  }, 30_000)
})
