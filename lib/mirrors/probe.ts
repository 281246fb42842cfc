import { blockHashes, pieceHashV1, pieceHashV2 } from '../hashing/index.ts'
import type { Torrent } from '../metainfo/index.ts'
import { createHash } from 'node:crypto'
import { MirrorError } from './errors.ts'

/** One ranged read of a file on the mirror, or a BEP 47 pad file's zeros (never fetched). */
export type ProbePart =
  | { kind: 'range'; file: string; url: string; fileSize: number; start: number; length: number }
  | { kind: 'zeros'; length: number }

/** Bytes a healthy mirror serves, and the hash they must have. */
export interface Probe {
  label: string
  parts: ProbePart[]
  /** `sha1`: a v1 piece; `v2-piece`: a BEP 52 merkle piece hash; `sha256`: a whole file. */
  algorithm: 'sha1' | 'v2-piece' | 'sha256'
  expected: Buffer
  /** v2 pieces: the file's length decides how the merkle tree is padded. */
  fileLength?: number
  pieceLength?: number
}

export interface ProbeSource {
  torrent: Torrent
  releaseDir: string
  /**
   * The folder holding the release's symlink folders, relative to the root
   * (`torrent-symlinks/<releaseDir>`, or under its distribution's subtree): a multi-file
   * torrent's files are reached through its symlink folder there.
   */
  symlinksDir: string
  /** The artifact's file name inside the torrent. */
  artifact: string
  /** Files with their whole-file SHA-256 (from `torrent_files`), by name inside the torrent. */
  sha256: ReadonlyMap<string, { size: number; sha256: string | null }>
}

/** Companions at most this big are checked whole against their SHA-256. */
const smallFile = 1024 * 1024

const encodePath = (segments: string[]) => segments.map(encodeURIComponent).join('/')

/**
 * The URL of a torrent file on a mirror, relative to the mirror's base: the same shape as the
 * web seed `url-list` holds plus what a client appends (BEP 19: `<torrent name>/<path>` for a
 * multi-file torrent, through the symlink folder; the file itself in the release folder otherwise).
 */
export function mirrorPath(source: Omit<ProbeSource, 'artifact' | 'sha256'>, file: string[]) {
  const dir = source.releaseDir ? source.releaseDir.split('/') : []
  return source.torrent.multiFile
    ? encodePath([...source.symlinksDir.split('/'), source.torrent.name, ...file])
    : encodePath([...dir, source.torrent.name])
}

/**
 * What a health check asks a mirror for: the smallest companion whole (its SHA-256 is known),
 * and the artifact's first piece, hashed as the torrent says (a v1 piece may span the files
 * before it; v2 pieces never span files, BEP 52). Pure: the torrent alone decides. Throws
 * `MirrorError` `no-piece-layer` for a v2 torrent without the artifact's piece layer.
 */
export function probesFor(source: ProbeSource): Probe[] {
  const { torrent } = source
  const probes: Probe[] = []
  const part = (index: number, start: number, length: number): ProbePart => {
    const f = torrent.files[index]
    if (f.pad) return { kind: 'zeros', length }
    return {
      kind: 'range',
      file: f.path.join('/'),
      url: mirrorPath(source, f.path),
      fileSize: f.length,
      start,
      length,
    }
  }

  const companion = [...source.sha256]
    .filter(
      ([name, f]) => name !== source.artifact && f.sha256 && f.size > 0 && f.size <= smallFile,
    )
    .sort((a, b) => a[1].size - b[1].size)[0]
  const companionSha256 = companion?.[1].sha256
  if (companion && companionSha256 && torrent.multiFile) {
    const index = torrent.files.findIndex((f) => !f.pad && f.path.join('/') === companion[0])
    if (index !== -1) {
      probes.push({
        label: companion[0],
        parts: [part(index, 0, companion[1].size)],
        algorithm: 'sha256',
        expected: Buffer.from(companionSha256, 'hex'),
      })
    }
  }

  const index = torrent.multiFile
    ? torrent.files.findIndex((f) => !f.pad && f.path.join('/') === source.artifact)
    : 0
  if (index === -1 || torrent.files[index].length === 0) return probes
  const artifact = torrent.files[index]
  const { pieceLength } = torrent
  if (torrent.pieces) {
    // v1: the piece holding the artifact's first byte, over every file it spans.
    const piece = Math.floor(artifact.offset / pieceLength)
    const from = piece * pieceLength
    const to = Math.min(from + pieceLength, torrent.length)
    const parts: ProbePart[] = []
    torrent.files.forEach((f, i) => {
      const start = Math.max(from, f.offset)
      const end = Math.min(to, f.offset + f.length)
      if (end > start) parts.push(part(i, start - f.offset, end - start))
    })
    probes.push({
      label: `${source.artifact} piece ${piece}`,
      parts,
      algorithm: 'sha1',
      expected: torrent.pieces.subarray(piece * 20, piece * 20 + 20),
    })
  } else if (artifact.piecesRoot) {
    // v2: a file larger than a piece has a piece layer; a smaller one is its own root.
    let expected = artifact.piecesRoot
    if (artifact.length > pieceLength) {
      const layer = torrent.pieceLayers.get(artifact.piecesRoot.toString('hex'))
      // BEP 52 lets a torrent leave its piece layers out (peers supply them) and we read such
      // torrents as libtorrent does; ours always carry them. Without one the first piece's hash
      // is unknown, and the file's root alone could only be checked by fetching all of it.
      if (!layer || layer.length < 32)
        throw new MirrorError(
          'no-piece-layer',
          `${torrent.name}: no piece layer for ${source.artifact}, so no piece of it can be checked`,
        )
      expected = layer.subarray(0, 32)
    }
    probes.push({
      label: `${source.artifact} piece 0`,
      parts: [part(index, 0, Math.min(artifact.length, pieceLength))],
      algorithm: 'v2-piece',
      expected,
      fileLength: artifact.length,
      pieceLength,
    })
  }
  return probes
}

/** True when `data` is what `probe` expects. */
export function matches(probe: Probe, data: Buffer): boolean {
  let digest: Buffer
  if (probe.algorithm === 'sha1') digest = pieceHashV1(data)
  else if (probe.algorithm === 'sha256') digest = createHash('sha256').update(data).digest()
  else if (probe.pieceLength === undefined || probe.fileLength === undefined) return false
  else digest = pieceHashV2(blockHashes(data), probe.pieceLength, probe.fileLength)
  return digest.equals(probe.expected)
}
