/**
 * The tracker (BEP 3, 7, 15, 23, 24, 31, 41, 48). The core (`tracker.ts`) holds the whitelisted
 * swarms (`swarms.ts`, `swarm.ts`) and their `downloaded` counts (`completions.ts`, flushed to a
 * {@link CounterStore}); the HTTP and UDP front ends (`http.ts`, `udp.ts`) take a core and call
 * it, never the reverse.
 */
export { Tracker, type TrackerOptions, type SwarmStats } from './tracker.ts'
export { answerHttp, handleHttp } from './http.ts'
export { handleUdp, startUdp, type UdpServer } from './udp.ts'
export { TrackerError, type TrackerErrorCode } from './errors.ts'
export { type CounterStore, MemoryCounterStore } from './counter-store.ts'
export { parseAnnounceQuery, parseScrapeQuery, type Announce } from './query.ts'
export { parseUdpPacket, type UdpRequest } from './udp-packet.ts'
