import { describe, it, expect } from 'vitest'
import { layoutFiles } from './layout.ts'
import { MetainfoError } from './errors.ts'
import { choosePieceLength } from './piece-length.ts'

const files = [
  { path: ['a.txt'], length: 2 },
  { path: ['a', 'b'], length: 1 },
  { path: ['_u'], length: 1 },
  { path: ['B', 'c'], length: 1 },
  { path: ['a-b'], length: 1 },
  { path: ['empty'], length: 0 },
  { path: ['exact'], length: 32768 },
]
const show = (l: ReturnType<typeof layoutFiles>) =>
  l.map((f) => `${f.path.join('/')}@${f.offset}+${f.length}`)

describe('layoutFiles', () => {
  it('orders v1 files like mktorrent: by the bytes of the whole path', () => {
    // mktorrent 1.1 lists these files in this order ('-' < '.' < '/').
    expect(show(layoutFiles(files, 16384, 'v1', true)).map((s) => s.split('@')[0])).toEqual([
      'B/c',
      '_u',
      'a-b',
      'a.txt',
      'a/b',
      'empty',
      'exact',
    ])
  })

  it('orders and pads hybrid files like libtorrent 2.0 create_torrent', () => {
    // libtorrent 2.0.8 with default flags: file tree order, a pad after every non-empty file
    // that does not end on a piece boundary (the last one too), none after empty or exact files.
    expect(show(layoutFiles(files, 16384, 'hybrid', true))).toEqual([
      'B/c@0+1',
      '.pad/16383@1+16383',
      '_u@16384+1',
      '.pad/16383@16385+16383',
      'a/b@32768+1',
      '.pad/16383@32769+16383',
      'a-b@49152+1',
      '.pad/16383@49153+16383',
      'a.txt@65536+2',
      '.pad/16382@65538+16382',
      'empty@81920+0',
      'exact@81920+32768',
    ])
    const tail = layoutFiles(
      [
        { path: ['x'], length: 5 },
        { path: ['y'], length: 7 },
      ],
      16384,
      'hybrid',
      true,
    )
    expect(show(tail).at(-1)).toBe('.pad/16377@16391+16377')
  })

  it('gives a single-file hybrid no pad', () => {
    expect(show(layoutFiles([{ path: ['x.iso'], length: 5 }], 16384, 'hybrid', false))).toEqual([
      'x.iso@0+5',
    ])
  })

  it('refuses unsafe, duplicate and clashing paths', () => {
    const bad = (paths: string[][]) => () =>
      layoutFiles(
        paths.map((path) => ({ path, length: 1 })),
        16384,
        'v1',
        true,
      )
    expect(bad([['..', 'etc']])).toThrow(/"\.\." segment/)
    expect(bad([['.']])).toThrow(MetainfoError)
    expect(bad([['a', '']])).toThrow(/empty segment/)
    expect(bad([['a/b']])).toThrow(/"\/" inside/)
    expect(bad([['x'], ['x']])).toThrow(/twice/)
    // `a` is a file and a folder; in v1 order `a-b` sits between them.
    expect(bad([['a'], ['a-b'], ['a', 'c']])).toThrow(/file and a folder/)
    expect(bad([])).toThrow(/at least one file/)
  })
})

describe('choosePieceLength', () => {
  it('aims at 1,000-2,000 pieces within 256 KiB..16 MiB', () => {
    expect(choosePieceLength(0)).toBe(256 * 1024)
    expect(choosePieceLength(100 * 1024 * 1024)).toBe(256 * 1024)
    expect(choosePieceLength(700 * 1024 * 1024)).toBe(512 * 1024) // a CD image: 1,400 pieces
    expect(choosePieceLength(4_700_000_000)).toBe(4 * 1024 * 1024) // a DVD image: 1,121 pieces
    expect(choosePieceLength(1024 ** 4)).toBe(16 * 1024 * 1024) // clamped
    for (const size of [3e8, 1.1e9, 2 ** 33, 3e10]) {
      const pieces = Math.ceil(size / choosePieceLength(size))
      expect(pieces).toBeGreaterThanOrEqual(1000)
      expect(pieces).toBeLessThanOrEqual(2000)
    }
    expect(() => choosePieceLength(-1)).toThrow(MetainfoError)
  })
})
