/** Counters of what the appliance served, written to the database in batches. */
export { StatsFlusher, type StatsSources, type Totals } from './flush.ts'
