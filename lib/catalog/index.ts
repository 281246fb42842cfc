/**
 * The catalog: the one owner of the `torrents`, `torrent_files`, `torrent_stats` and `events`
 * tables. The generator records what it publishes here; the pages, the API, the tracker's
 * completion counts, the stats flush and the mirror checks read and count through these
 * functions, never with their own queries.
 */
export {
  loadTracked,
  markRemoved,
  recordPublished,
  retire,
  type PublishedRow,
  type TorrentRecord,
  type TrackedTorrent,
} from './records.ts'
export {
  eventLog,
  lastFailures,
  recordEvent,
  type EventEntry,
  type EventKind,
  type Failure,
  type LoggedEvent,
} from './events.ts'
export {
  activeTorrents,
  catalogSignature,
  digestsOf,
  metainfoOf,
  type CatalogTorrent,
} from './pages.ts'
export {
  activeRecords,
  countersOf,
  filesOf,
  findTorrent,
  newestActive,
  replaceMetainfo,
  torrentPage,
  type TorrentCounters,
  type TorrentFile,
  type TorrentQuery,
  type TorrentStatus,
} from './listing.ts'
export { activeCounters, counterTotals, statusTotals } from './totals.ts'
export {
  addCounters,
  CompletionCounts,
  lockLiveCounters,
  resetPeaks,
  torrentNames,
  type CounterDelta,
  type LiveCounters,
} from './counters.ts'
