// Counters over time: the flush of upload and peak counters into the catalog, and the daily
// rollups (`stats_daily`, owned here) the API and the pages show.
export { StatsFlusher, type StatsSources, type Totals } from './flush.ts'
export { dailyStats, dailyTotals, rollupDaily, utcDay } from './rollup.ts'
export { crowdTest, egressByTorrent, type EgressSources, type TorrentEgress } from './egress.ts'
