import { encode, type Encodable } from '../bencode/index.ts'
import { MetainfoError } from './errors.ts'
import { unsafeSegment, type Format, type LayoutFile } from './layout.ts'
import { isValidPieceLength } from './piece-length.ts'

export interface InfoInput {
  name: string
  pieceLength: number
  format: Format
  multiFile: boolean
  /** From {@link layoutFiles}: canonical order, pads included. */
  files: readonly LayoutFile[]
  /** v1 and hybrid: 20 bytes of SHA-1 per piece over the files and pads. */
  pieces?: Buffer
  /** v2 and hybrid: per entry of `files`, the merkle root; null for pads and empty files. */
  piecesRoots?: ReadonlyArray<Buffer | null>
}

type TreeNode = Map<Buffer, TreeNode | { '': Encodable }>

function fileTree(input: InfoInput): TreeNode {
  const root: TreeNode = new Map()
  const nodes = new Map<string, TreeNode>([['', root]])
  input.files.forEach((file, i) => {
    if (file.pad) return
    const root32 = input.piecesRoots?.[i] ?? null
    if (file.length > 0 && root32?.length !== 32) {
      throw new MetainfoError('bad-input', `"${file.path.join('/')}" needs a 32-byte pieces root`)
    }
    let node = root
    let key = ''
    for (const segment of file.path.slice(0, -1)) {
      key += `/${segment}`
      let child = nodes.get(key)
      if (!child) {
        child = new Map()
        nodes.set(key, child)
        node.set(Buffer.from(segment, 'utf8'), child)
      }
      node = child
    }
    // BEP 52: empty files carry no pieces root.
    const leaf = {
      length: file.length,
      'pieces root': file.length > 0 && root32 ? root32 : undefined,
    }
    node.set(Buffer.from(file.path[file.path.length - 1], 'utf8'), { '': leaf })
  })
  return root
}

/**
 * The canonical, minimal `info` dictionary (BEP 3 keys; BEP 52 and 47 keys for v2 and hybrid),
 * bencoded. Nothing time- or machine-specific goes in, so the same files and piece length give
 * the same info-hash everywhere.
 */
export function buildInfo(input: InfoInput): Buffer {
  const { name, pieceLength, format, multiFile, files } = input
  const why = unsafeSegment(name)
  if (why) throw new MetainfoError('bad-name', `torrent name has ${why}`)
  if (!isValidPieceLength(pieceLength)) {
    throw new MetainfoError(
      'bad-piece-length',
      `piece length ${pieceLength} is not a power of two from 16 KiB to 128 MiB`,
    )
  }
  const info: Record<string, Encodable | undefined> = { name, 'piece length': pieceLength }
  if (format !== 'v2') {
    const total = files.reduce((sum, f) => sum + f.length, 0)
    const expected = Math.ceil(total / pieceLength) * 20
    if (input.pieces?.length !== expected) {
      throw new MetainfoError(
        'bad-pieces',
        `pieces must be ${expected} bytes for ${total} bytes of data`,
      )
    }
    info.pieces = input.pieces
    if (multiFile) {
      info.files = files.map((f) => ({
        attr: f.pad ? 'p' : undefined,
        length: f.length,
        path: f.path,
      }))
    } else {
      info.length = files[0].length
    }
  }
  if (format !== 'v1') {
    info['meta version'] = 2
    info['file tree'] = fileTree(input)
  }
  return encode(info)
}
