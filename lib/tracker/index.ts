/**
 * The tracker (BEP 3, 7, 15, 23, 24, 31, 41, 48): whitelisted swarms in memory, HTTP and UDP
 * front ends, `downloaded` counters flushed to a {@link CounterStore}.
 */
export { Tracker, type TrackerOptions, type SwarmStats } from './tracker.ts'
export type { UdpServer } from './udp.ts'
export { TrackerError, type TrackerErrorCode } from './errors.ts'
export { type CounterStore, MemoryCounterStore } from './counter-store.ts'
export { parseAnnounceQuery, parseScrapeQuery, type Announce } from './query.ts'
export { parseUdpPacket, type UdpRequest } from './udp-packet.ts'
