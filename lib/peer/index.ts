/**
 * The seeder: a seed-only BitTorrent peer (BEP 3, 6, 9, 10, 21, 52) and a small client that
 * announces it to a torrent's extra HTTP trackers.
 */
export {
  startSeeder,
  type Seeder,
  type SeederOptions,
  type SeederStats,
  type TorrentStats,
} from './seeder.ts'
export type { SeedTorrent } from './torrent.ts'
export { WireError, type WireErrorCode } from './errors.ts'
export { MessageFramer } from './framer.ts'
export {
  parseHandshake,
  parseMessage,
  type Handshake,
  type Message,
  type WireLimits,
} from './wire.ts'
export {
  Announcer,
  announceUrl,
  httpTrackers,
  parseAnnounceResponse,
  type AnnouncerOptions,
} from './announce.ts'
export { hostKey } from './host-key.ts'
