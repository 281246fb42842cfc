import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'

/**
 * What a directory looks like to a scan: each visible file's size and mtime. rsync `--inplace`
 * writes under the final name, so an event-free moment is not enough; the same snapshot twice,
 * some time apart, is what says a copy is done (or stalled long enough to scan).
 */
export type Snapshot = Map<string, string>

export async function snapshot(root: string, dirs: readonly string[]): Promise<Snapshot> {
  const result: Snapshot = new Map()
  await Promise.all(
    dirs.map(async (dir) => {
      let entries
      try {
        entries = await readdir(path.join(root, dir), { withFileTypes: true })
      } catch {
        return // removed: a removal is a finished act, nothing left to wait for
      }
      await Promise.all(
        entries.map(async (entry) => {
          if (entry.name.startsWith('.') || entry.isDirectory()) return
          const key = `${dir}/${entry.name}`
          try {
            const s = await stat(path.join(root, dir, entry.name))
            result.set(key, `${s.size}:${s.mtimeMs}:${s.ino}`)
          } catch {
            // Renamed or deleted between readdir and stat: the same as absent.
          }
        }),
      )
    }),
  )
  return result
}

/**
 * Whether nothing is being written: every file of `after` was already there in `before`, the
 * same. A file that appeared may be an `--inplace` copy just begun; one that vanished is done.
 */
export function heldStill(before: Snapshot, after: Snapshot): boolean {
  for (const [key, value] of after) if (before.get(key) !== value) return false
  return true
}

/** Debian's ftpsync marks a running sync with this file in the mirror root. */
export const updateInProgressPrefix = 'Archive-Update-in-Progress-'

/** The ftpsync marker in `root`, if a sync is running; work waits until it is gone. */
export async function updateInProgress(root: string): Promise<string | undefined> {
  try {
    return (await readdir(root)).find((name) => name.startsWith(updateInProgressPrefix))
  } catch {
    return undefined
  }
}
