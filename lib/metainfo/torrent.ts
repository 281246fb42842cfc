import { decode, encode, type Encodable } from '../bencode/index.ts'
import { MetainfoError } from './errors.ts'

/** What goes outside `info`: none of it changes the info-hash. */
export interface TorrentExtras {
  /** Tracker tiers (BEP 12); the first URL is also `announce` for clients without BEP 12. */
  trackers?: readonly (readonly string[])[]
  /** Web seeds (BEP 19 `url-list`). */
  webSeeds?: readonly string[]
  comment?: string
  createdBy?: string
  /** Seconds since the epoch; mirrorseed passes the artifact's mtime so output is byte-stable. */
  creationDate?: number
}

/**
 * The .torrent bytes around an already encoded `info`. `pieceLayers` (BEP 52, v2 and hybrid only)
 * maps each pieces root to its layer; it is written even when empty, as libtorrent does, since a
 * v2 torrent without the key is invalid.
 */
export function encodeTorrent(
  info: Buffer,
  pieceLayers: ReadonlyMap<Buffer, Buffer> | null,
  extras: TorrentExtras = {},
): Buffer {
  const tiers = (extras.trackers ?? []).map((tier) => [...tier]).filter((tier) => tier.length > 0)
  const urls = tiers.flat()
  if (extras.creationDate !== undefined && !Number.isSafeInteger(extras.creationDate)) {
    throw new MetainfoError(
      'bad-input',
      `creation date must be whole seconds, not ${extras.creationDate}`,
    )
  }
  const torrent: Record<string, Encodable | undefined> = {
    announce: urls[0],
    'announce-list': urls.length > 1 ? tiers : undefined,
    comment: extras.comment,
    'created by': extras.createdBy,
    'creation date': extras.creationDate,
    // Our own encoding of info is canonical, so decode + encode gives the same bytes back.
    info: decode(info),
    'piece layers': pieceLayers ?? undefined,
    'url-list': extras.webSeeds && extras.webSeeds.length > 0 ? [...extras.webSeeds] : undefined,
  }
  return encode(torrent)
}
