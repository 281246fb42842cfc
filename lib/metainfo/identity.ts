/**
 * A torrent's identity, in one place: its v1 info-hash (SHA-1 of `info`), its v2 info-hash
 * (SHA-256 of `info`, BEP 52) and the 20-byte key that trackers and the peer wire know it by.
 * BEP 52: where a 20-byte hash is expected (announce, scrape, the handshake), a v2 hash is
 * truncated to its first 20 bytes; a hybrid torrent is one swarm under both keys.
 */
export interface TorrentHashes {
  infoHash: Buffer | null
  infoHashV2: Buffer | null
}

/** The first 20 bytes of a v2 info-hash: what BEP 52 puts where a v1 hash would go. */
export function truncatedV2(infoHashV2: Buffer): Buffer {
  return infoHashV2.subarray(0, 20)
}

/**
 * The key the tracker, the seeder, the announcer and the stats use for a torrent: the v1 hash,
 * or for a v2-only torrent the truncated v2 hash.
 *
 * @example
 * tracker.allow(trackerKeyHex(torrent)) // 40 hex digits for v1, v2 and hybrid alike
 */
export function trackerKey(torrent: TorrentHashes): Buffer {
  if (torrent.infoHash) return torrent.infoHash
  if (torrent.infoHashV2) return truncatedV2(torrent.infoHashV2)
  throw new Error('a torrent has a v1 or a v2 info-hash')
}

export function trackerKeyHex(torrent: TorrentHashes): string {
  return trackerKey(torrent).toString('hex')
}

/**
 * Every 20-byte key peers may use for the torrent: the v1 hash and the truncated v2 hash of a
 * hybrid (libtorrent announces and connects under both), the one key otherwise.
 */
export function swarmKeys(torrent: TorrentHashes): Buffer[] {
  const keys: Buffer[] = []
  if (torrent.infoHash) keys.push(torrent.infoHash)
  if (torrent.infoHashV2) keys.push(truncatedV2(torrent.infoHashV2))
  return keys
}
