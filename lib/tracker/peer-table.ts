/**
 * The peers of one address family in one swarm, packed for size: 1,000,000 peers must fit in
 * well under 300 MB, so there is no object per peer. A peer is its compact record (BEP 23: 4-byte
 * IPv4 address + port, or BEP 7: 16-byte IPv6 address + port, network order), which is also its
 * key and exactly what a compact reply copies out. Beside it: last-seen second and flag bits.
 * Lookup is an open-addressing hash index (linear probing, backward-shift deletion) over the dense
 * record array; removal moves the last record into the hole, so the array stays dense and a
 * random sample is a random slot number.
 *
 * Cost per IPv4 peer: 6 + 4 + 1 bytes, plus 8 to 16 bytes of index (load factor 1/4 to 1/2),
 * times up to 2 of growth slack, plus as much again per distinct address for the count of peers
 * per address (a table of the same kind keyed by the address alone, IPv6 by its /64, the count
 * in its `lastSeen`), which caps what one address may take of a swarm. `npm run bench:tracker`
 * prints the RSS for 1,000,000 peers.
 */
export const SEEDER = 1
/** This peer's `completed` event was counted already (one completion per peer per torrent). */
export const COMPLETED = 2

const EMPTY = -1
/** A per-process seed, so nobody can precompute IPv6 addresses that all land in one chain. */
const SEED = (Math.random() * 0x100000000) | 0

export class PeerTable {
  readonly stride: number
  records: Uint8Array
  lastSeen: Uint32Array
  flags: Uint8Array
  private index: Int32Array
  private mask: number
  count = 0
  seeders = 0
  /** Peers per address (IPv4 /32, IPv6 /64): stride 4 or 8, the count kept in `lastSeen`. */
  private readonly addresses: PeerTable | null

  /** `countAddresses` false makes the address table itself (keyed by 4 or 8 address bytes). */
  constructor(stride: 6 | 18 | 4 | 8, capacity = 4, countAddresses = true) {
    this.addresses = countAddresses ? new PeerTable(stride === 6 ? 4 : 8, 4, false) : null
    this.stride = stride
    this.records = new Uint8Array(capacity * stride)
    this.lastSeen = new Uint32Array(capacity)
    this.flags = new Uint8Array(capacity)
    this.index = new Int32Array(capacity * 2).fill(EMPTY)
    this.mask = capacity * 2 - 1
  }

  get capacity(): number {
    return this.lastSeen.length
  }

  private hash(bytes: Uint8Array, offset: number): number {
    let h = SEED ^ 0x811c9dc5
    for (let i = 0; i < this.stride; i++) h = Math.imul(h ^ bytes[offset + i], 0x01000193)
    h ^= h >>> 15
    return Math.imul(h, 0x2c1b3c6d) >>> 0
  }

  private same(slot: number, bytes: Uint8Array, offset: number): boolean {
    const records = this.records
    const base = slot * this.stride
    for (let i = 0; i < this.stride; i++) if (records[base + i] !== bytes[offset + i]) return false
    return true
  }

  /** Position in the index holding this record's slot, or the empty position where it would go. */
  private probe(bytes: Uint8Array, offset: number): number {
    const index = this.index
    let pos = this.hash(bytes, offset) & this.mask
    for (;;) {
      const slot = index[pos]
      if (slot === EMPTY || this.same(slot, bytes, offset)) return pos
      pos = (pos + 1) & this.mask
    }
  }

  /** The slot of the peer whose compact record is at `bytes[offset…]`, or -1. */
  find(bytes: Uint8Array, offset = 0): number {
    return this.index[this.probe(bytes, offset)]
  }

  /** Peers stored with the address of the record at `bytes[offset…]` (IPv6: in its /64). */
  peersAt(bytes: Uint8Array, offset = 0): number {
    const addresses = this.addresses
    if (!addresses) return 0
    const at = addresses.find(bytes, offset)
    return at < 0 ? 0 : addresses.lastSeen[at]
  }

  /** Add a peer (the caller checked it is absent) and return its slot. */
  insert(bytes: Uint8Array, offset: number, seen: number, flags: number): number {
    if (this.count === this.capacity) this.resize(this.capacity * 2)
    const slot = this.count++
    this.records.set(bytes.subarray(offset, offset + this.stride), slot * this.stride)
    this.lastSeen[slot] = seen
    this.flags[slot] = flags
    if (flags & SEEDER) this.seeders++
    this.index[this.probe(bytes, offset)] = slot
    const addresses = this.addresses
    if (addresses) {
      const at = addresses.find(bytes, offset)
      if (at < 0) addresses.insert(bytes, offset, 1, 0)
      else addresses.lastSeen[at]++
    }
    return slot
  }

  setFlags(slot: number, flags: number): void {
    this.seeders += (flags & SEEDER) - (this.flags[slot] & SEEDER)
    this.flags[slot] = flags
  }

  remove(slot: number): void {
    if (this.flags[slot] & SEEDER) this.seeders--
    const addresses = this.addresses
    if (addresses) {
      const at = addresses.find(this.records, slot * this.stride)
      if (--addresses.lastSeen[at] === 0) addresses.remove(at)
    }
    this.unindex(this.probe(this.records, slot * this.stride))
    const last = --this.count
    if (slot !== last) {
      const stride = this.stride
      this.records.copyWithin(slot * stride, last * stride, last * stride + stride)
      this.lastSeen[slot] = this.lastSeen[last]
      this.flags[slot] = this.flags[last]
      this.index[this.probe(this.records, slot * stride)] = slot
    }
  }

  /** Remove every peer last seen before `cutoff`; returns how many went. */
  expire(cutoff: number): number {
    let removed = 0
    // From the end, so the record moved into a hole has already been looked at.
    for (let slot = this.count - 1; slot >= 0; slot--) {
      if (this.lastSeen[slot] < cutoff) {
        this.remove(slot)
        removed++
      }
    }
    if (this.capacity > 8 && this.count * 4 < this.capacity) this.resize(this.capacity >>> 1)
    const addresses = this.addresses
    if (addresses && addresses.capacity > 8 && addresses.count * 4 < addresses.capacity)
      addresses.resize(addresses.capacity >>> 1)
    return removed
  }

  /** Backward-shift deletion keeps every probe chain unbroken without tombstones. */
  private unindex(pos: number): void {
    const index = this.index
    const mask = this.mask
    let hole = pos
    let next = pos
    for (;;) {
      next = (next + 1) & mask
      const slot = index[next]
      if (slot === EMPTY) break
      const home = this.hash(this.records, slot * this.stride) & mask
      const between = hole <= next ? hole < home && home <= next : hole < home || home <= next
      if (between) continue
      index[hole] = slot
      hole = next
    }
    index[hole] = EMPTY
  }

  private resize(capacity: number): void {
    const stride = this.stride
    const records = new Uint8Array(capacity * stride)
    records.set(this.records.subarray(0, this.count * stride))
    const lastSeen = new Uint32Array(capacity)
    lastSeen.set(this.lastSeen.subarray(0, this.count))
    const flags = new Uint8Array(capacity)
    flags.set(this.flags.subarray(0, this.count))
    this.records = records
    this.lastSeen = lastSeen
    this.flags = flags
    this.index = new Int32Array(capacity * 2).fill(EMPTY)
    this.mask = capacity * 2 - 1
    for (let slot = 0; slot < this.count; slot++) {
      this.index[this.probe(records, slot * stride)] = slot
    }
  }
}
