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

let marks = new Uint32Array(256)
let generation = 0
let order = new Int32Array(256)
/**
 * xorshift32 state for the draws below. Math.random() was half of samplePeers' time (about
 * 12 ns a call, 50+ calls an announce on a large swarm; node --cpu-prof of handleUdp): the sample
 * needs spread, not unpredictability (a peer list is public to every announcer anyway).
 */
let seed = (Math.random() * 0x100000000) | 1

/** The next xorshift32 state (never 0 from a non-zero one). */
function next(x: number): number {
  x ^= x << 13
  x ^= x >>> 17
  return x ^ (x << 5)
}

/** A draw in [0, n) from a state: the state's 32 bits scaled, no modulo bias worth a branch. */
function below(x: number, n: number): number {
  return Math.floor(((x >>> 0) * n) / 0x100000000)
}

/**
 * Copies one 6- or 18-byte peer record. A byte loop, not `out.set(records.subarray(…))`: the
 * subarray is an object per peer, 50 per announce, and was a tenth of serve's CPU under UDP load
 * (node --cpu-prof, bench/tracker.ts).
 */
function copyRecord(
  records: Uint8Array,
  from: number,
  stride: number,
  out: Uint8Array,
  to: number,
): void {
  for (let i = 0; i < stride; i++) out[to + i] = records[from + i]
}

/**
 * Copy up to `want` random peer records of `table`, never `exclude`, into `out` at `offset`;
 * returns the new offset. A fresh sample per call: small asks on large swarms draw random slots
 * with a generation-stamped mark array (no clearing, no allocation); asks for most of the swarm
 * shuffle a slot list partially (Fisher-Yates).
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
  const available = count - (exclude >= 0 && exclude < count ? 1 : 0)
  const stride = table.stride
  const records = table.records
  if (available <= want) {
    for (let slot = 0; slot < count; slot++) {
      if (slot === exclude) continue
      copyRecord(records, slot * stride, stride, out, offset)
      offset += stride
    }
    return offset
  }
  if (want * 2 > available) {
    if (order.length < count) order = new Int32Array(count * 2)
    let n = 0
    for (let slot = 0; slot < count; slot++) if (slot !== exclude) order[n++] = slot
    let x = seed
    for (let i = 0; i < want; i++) {
      x = next(x)
      const j = i + below(x, n - i)
      const slot = order[j]
      order[j] = order[i]
      copyRecord(records, slot * stride, stride, out, offset)
      offset += stride
    }
    seed = x
    return offset
  }
  if (marks.length < count) marks = new Uint32Array(count * 2)
  if (++generation === 0xffffffff) {
    marks.fill(0)
    generation = 1
  }
  let x = seed
  for (let taken = 0; taken < want;) {
    x = next(x)
    const slot = below(x, count)
    if (slot === exclude || marks[slot] === generation) continue
    marks[slot] = generation
    copyRecord(records, slot * stride, stride, out, offset)
    offset += stride
    taken++
  }
  seed = x
  return offset
}
