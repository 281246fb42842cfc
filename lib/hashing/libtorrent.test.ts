import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { libtorrent, systemPython } from '../../test/tools.ts'
import { hashFiles, type HashInput } from './index.ts'

// libtorrent 2.0 is the reference for v2 and hybrid torrents: what it writes for `pieces root`,
// `piece layers` and a hybrid's padded v1 `pieces` is what every v2 client checks against.
const script = `
import libtorrent as lt, sys, json, os
root, piece_length, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fs = lt.file_storage()
lt.add_files(fs, root)
ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v2_only if mode == 'v2' else 0)
lt.set_piece_hashes(ct, os.path.dirname(root))
t = ct.generate()
info = t[b'info']
out = {'files': {}, 'v1': None}
def walk(tree, prefix):
    for k, v in tree.items():
        if b'' in v:
            f = v[b'']
            root = f.get(b'pieces root', b'')
            out['files']['/'.join(prefix + [k.decode()])] = {'root': root.hex(), 'layer': t.get(b'piece layers', {}).get(root, b'').hex()}
        else:
            walk(v, prefix + [k.decode()])
walk(info[b'file tree'], [])
if b'pieces' in info:
    out['v1'] = {'pieces': info[b'pieces'].hex(), 'files': [{'path': '/'.join(p.decode() for p in f[b'path']), 'length': f[b'length'], 'pad': b'p' in f.get(b'attr', b'')} for f in info[b'files']]}
print(json.dumps(out))
`

interface Reference {
  files: Record<string, { root: string; layer: string }>
  v1: { pieces: string; files: Array<{ path: string; length: number; pad: boolean }> } | null
}

function reference(root: string, pieceLength: number, mode: 'v2' | 'hybrid'): Reference {
  const run = spawnSync(systemPython, ['-c', script, root, String(pieceLength), mode], {
    encoding: 'utf8',
  })
  if (run.status !== 0) throw new Error(`libtorrent failed: ${run.stderr}`)
  return JSON.parse(run.stdout) as Reference
}

const lt = libtorrent()
const sizes = [1, 16383, 16384, 16385, 65536, 65537, 3 * 65536 + 5000, 1_000_000, 0]

describe.skipIf(!lt.found)(`v2 and hybrid hashes equal libtorrent's ${lt.reason}`, () => {
  let dir: string
  let root: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirrorseed-hashing-lt-'))
    root = join(dir, 'release')
    await mkdir(root)
    await Promise.all(
      sizes.map((size, i) => writeFile(join(root, `file${i}.bin`), randomBytes(size))),
    )
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  for (const pieceLength of [16384, 65536, 262144]) {
    it(`gives libtorrent's pieces roots and piece layers (v2, piece length ${pieceLength})`, async () => {
      const expected = reference(root, pieceLength, 'v2')
      const names = sizes.map((_, i) => `file${i}.bin`)
      const result = await hashFiles({
        files: names.map((name, i) => ({ path: join(root, name), length: sizes[i] })),
        pieceLength,
        v2: true,
      })
      names.forEach((name, i) => {
        const got = result.files[i]!
        expect(got.piecesRoot?.toString('hex') ?? '', `${name} root`).toBe(
          expected.files[name].root,
        )
        expect(got.pieceLayer?.toString('hex') ?? '', `${name} layer`).toBe(
          expected.files[name].layer,
        )
      })
    })

    it(`gives libtorrent's v1 pieces and v2 roots for a hybrid (piece length ${pieceLength})`, async () => {
      const expected = reference(root, pieceLength, 'hybrid')
      const layout = expected.v1!.files
      const files: HashInput[] = layout.map((f) =>
        f.pad ? { pad: f.length } : { path: join(root, f.path), length: f.length },
      )
      const result = await hashFiles({ files, pieceLength, v1: true, v2: true, threads: 2 })
      expect(result.pieces!.toString('hex')).toBe(expected.v1!.pieces)
      layout.forEach((f, i) => {
        if (f.pad) return expect(result.files[i]).toBeNull()
        expect(result.files[i]!.piecesRoot?.toString('hex') ?? '', `${f.path} root`).toBe(
          expected.files[f.path].root,
        )
      })
    })
  }
})
