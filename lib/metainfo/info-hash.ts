import { MetainfoError } from './errors.ts'
import type { Torrent } from './parse.ts'

type InfoHashes = Pick<Torrent, 'infoHash' | 'infoHashV2'>

/**
 * A torrent's own info-hash: the v1 one when it has one, else the v2 one. Every torrent has at
 * least one of them (v1, v2 or hybrid).
 */
export function infoHashOf(torrent: InfoHashes): Buffer {
  const hash = torrent.infoHash ?? torrent.infoHashV2
  if (!hash) throw new MetainfoError('missing-key', 'a torrent with no info-hash')
  return hash
}

/** The 20 bytes trackers and peers know a torrent by (BEP 52: a v2 info-hash is truncated). */
export function swarmKey(torrent: InfoHashes): Buffer {
  return infoHashOf(torrent).subarray(0, 20)
}
