import { COMPLETED, PeerTable, SEEDER } from './peer-table.ts'

/**
 * One whitelisted torrent: its IPv4 and IPv6 peers (created on first use, so 10,000 quiet
 * torrents cost next to nothing) and its `downloaded` counter.
 */
export class Swarm {
  readonly infoHashHex: string
  v4: PeerTable | null = null
  v6: PeerTable | null = null
  /** Completions ever: the count loaded from the database plus those seen since start. */
  downloaded: number
  /** Epoch ms after which a superseded torrent stops being tracked; 0 while it is active. */
  until = 0

  constructor(infoHashHex: string, downloaded: number) {
    this.infoHashHex = infoHashHex
    this.downloaded = downloaded
  }

  get seeders(): number {
    return (this.v4?.seeders ?? 0) + (this.v6?.seeders ?? 0)
  }

  get leechers(): number {
    return this.peers - this.seeders
  }

  get peers(): number {
    return (this.v4?.count ?? 0) + (this.v6?.count ?? 0)
  }

  table(stride: 6 | 18): PeerTable {
    if (stride === 6) return (this.v4 ??= new PeerTable(6))
    return (this.v6 ??= new PeerTable(18))
  }
}

/** What an announce did to the swarm, so the reply can leave the asker out. */
export interface Update {
  /** The asker's slot in its table, or -1 when it is not (or no longer) in the swarm. */
  slot: number
  /** Peers added (1), removed (-1) or neither (0), for the store-wide count. */
  added: number
  /** Whether this announce was the peer's first `completed` for this torrent. */
  completed: boolean
}

/**
 * Apply one announce. `record` is the peer's compact record (address + port); a peer is the same
 * peer when address and port match, whatever its peer_id says (peer ids are not stored: BEP 23
 * notes compact replies never needed them, and 20 bytes per peer would double the store).
 */
export function applyAnnounce(
  swarm: Swarm,
  record: Uint8Array,
  seeder: boolean,
  event: number,
  now: number,
  mayAdd: boolean,
  maxPerAddress = Infinity,
): Update {
  const stride = record.length as 6 | 18
  if (event === 3) {
    const table = stride === 6 ? swarm.v4 : swarm.v6
    const slot = table ? table.find(record) : -1
    if (table && slot >= 0) table.remove(slot)
    return { slot: -1, added: slot >= 0 ? -1 : 0, completed: false }
  }
  const table = swarm.table(stride)
  let slot = table.find(record)
  let flags = seeder ? SEEDER : 0
  let completed = false
  if (slot >= 0) flags |= table.flags[slot] & COMPLETED
  // Only the `completed` event counts (BEP 3: "sent when the download completes"), once per
  // peer: a client that re-sends it, or a seeder that starts with left=0, adds nothing.
  if (event === 1 && !(flags & COMPLETED)) {
    flags |= COMPLETED
    completed = true
  }
  if (slot >= 0) {
    table.setFlags(slot, flags)
    table.lastSeen[slot] = now
    return { slot, added: 0, completed }
  }
  if (!mayAdd) return { slot: -1, added: 0, completed }
  // One address (IPv6: one /64, which one host may own whole) gets a few slots of a swarm, not
  // all of them: fresh ports are free, so without a cap one host fills the swarm, hands everyone
  // its own addresses, and fills the tracker's `maxPeers`. A peer refused here is answered but not
  // stored, and its `completed` is not counted (fresh ports would count it again and again).
  if (table.peersAt(record) >= maxPerAddress) return { slot: -1, added: 0, completed: false }
  slot = table.insert(record, 0, now, flags)
  return { slot, added: 1, completed }
}

/**
 * xorshift32 state for the window starts below. Math.random() was a quarter of samplePeers' time
 * (node --cpu-prof of handleUdp): a start needs spread, not unpredictability (a peer list is public
 * to every announcer anyway).
 */
let seed = (Math.random() * 0x100000000) | 1

/**
 * Copy up to `want` peer records of `table`, never `exclude`, into `out` at `offset`; returns the
 * new offset. The sample is a window of consecutive slots from a random start, wrapping at the
 * end, as opentracker answers (a random offset into its peer vector, then a contiguous run): one
 * or two block copies instead of `want` random draws, each its own copy. Slots are in no useful
 * order (a leaver's slot takes the last peer), and every announce draws a new start, so over a
 * swarm's announces every peer is handed out as often as the others.
 */
export function samplePeers(
  table: PeerTable | null,
  exclude: number,
  want: number,
  out: Uint8Array,
  offset: number,
): number {
  if (table === null || want <= 0) return offset
  const count = table.count
  const stride = table.stride
  const records = table.records
  const excluded = exclude >= 0 && exclude < count
  const take = Math.min(want, count - (excluded ? 1 : 0))
  if (take <= 0) return offset
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  // The window is `take` slots long, one more when the asker's slot falls inside it.
  let first = Math.floor(((seed >>> 0) * count) / 0x100000000)
  if (take === count - (excluded ? 1 : 0)) first = 0
  let left = take
  let slot = first
  while (left > 0) {
    // One run: up to the table's end, the asker's slot, or the window's end, whichever is first.
    let runEnd = Math.min(count, slot + left)
    if (excluded && exclude >= slot && exclude < runEnd) runEnd = exclude
    if (runEnd > slot) {
      out.set(records.subarray(slot * stride, runEnd * stride), offset)
      offset += (runEnd - slot) * stride
      left -= runEnd - slot
    }
    slot = runEnd === exclude && excluded ? exclude + 1 : runEnd
    if (slot >= count) slot = 0
  }
  return offset
}
