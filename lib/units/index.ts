// Units as people read them, the same on the command line and the index page.

const binaryUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/**
 * A byte count in binary units, as mirror admins read sizes (`ls -h`, `du -h`): one decimal
 * below 100, none above, no trailing `.0`.
 *
 * @example
 * formatBytes(1536) // '1.5 KiB'
 * formatBytes(40_038) // '39.1 KiB'
 * formatBytes(4 << 20) // '4 MiB'
 */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < binaryUnits.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${bytes} B`
  return `${value.toFixed(value < 100 ? 1 : 0).replace(/\.0$/, '')} ${binaryUnits[unit]}`
}
