import { formatBytes } from '../../lib/units/index.ts'

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0')
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`
}

/**
 * A progress bar on stderr (bytes, rate, ETA), drawn only when stderr is a terminal: a pipe or a
 * log file gets nothing, like mktorrent and rsync. Redrawn at most ten times a second.
 *
 * @example
 * const bar = progressBar('hashing')
 * await hashFiles({ …, onProgress: bar.update })
 * bar.done()
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const enabled = stream.isTTY === true
  const started = Date.now()
  let last = 0
  let drawn = false
  return {
    update: (done: number, total: number): void => {
      const now = Date.now()
      if (!enabled || (now - last < 100 && done < total)) return
      last = now
      const elapsed = Math.max((now - started) / 1000, 0.001)
      const rate = done / elapsed
      const eta = rate > 0 ? (total - done) / rate : Infinity
      const width = 24
      const filled = total > 0 ? Math.round((done / total) * width) : width
      const percent = total > 0 ? Math.floor((done / total) * 100) : 100
      const line =
        `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ` +
        `${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${formatDuration(eta)}`
      stream.write(`\r${line}\x1b[K`)
      drawn = true
    },
    done: (): void => {
      if (drawn) stream.write('\r\x1b[K')
    },
  }
}
