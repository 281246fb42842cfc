/**
 * What every benchmark through the real programs needs from the machine: CPU seconds and memory
 * of a running process (from /proc, all its threads), medians, and a warning when other load on
 * this shared machine makes the figures unreliable.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100

/** User + system CPU seconds a process (every thread) has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) in parentheses; utime and stime are
  // the 14th and 15th fields of the whole line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}

/** Resident memory now and at its peak (VmRSS, VmHWM), in MiB. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN)
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** One line on the machine's load; a warning when it is busier than its cores. */
export function machineLoad(): string {
  const [one, five] = loadavg()
  const cores = availableParallelism()
  const line = `load average ${one.toFixed(1)} (1 min), ${five.toFixed(1)} (5 min) on ${cores} cores`
  return one > cores
    ? `WARNING: machine busy, ${line}: absolute rates are understated; ratios and CPU per request still compare`
    : line
}
