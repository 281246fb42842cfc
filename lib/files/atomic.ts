import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import path from 'node:path'

/** A file on disk under its temporary name; see {@link stageFile}. */
export interface StagedFile {
  /** Where it goes. */
  file: string
  /** Renames it into place, then syncs the folder. */
  place(): Promise<void>
  /** Removes the temporary. */
  discard(): Promise<void>
}

/**
 * Writes `bytes` to a temp name beside `file` (synced) and hands back how to put it in place
 * (rename, then sync the folder) or throw it away: a crash never leaves half a file under the
 * real name, and a reader sees the old file or the new one. The folder must exist.
 */
export async function stageFile(file: string, bytes: Buffer): Promise<StagedFile> {
  const dir = path.dirname(file)
  const temp = tempName(file, 'tmp')
  const handle = await open(temp, 'wx', 0o644)
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } catch (err) {
    await handle.close()
    await rm(temp, { force: true })
    throw err
  }
  await handle.close()
  return {
    file,
    place: async () => {
      await rename(temp, file)
      await syncFolder(dir)
    },
    discard: () => rm(temp, { force: true }),
  }
}

/**
 * The one atomic write of a file mirrorseed makes (published `.torrent` files, `create`'s
 * output): temp name, sync, rename, sync the folder. The folder must exist.
 *
 * @example
 * await writeFileAtomically('debian.torrent', created.bytes)
 */
export async function writeFileAtomically(file: string, bytes: Buffer): Promise<void> {
  const staged = await stageFile(file, bytes)
  await staged.place().catch(async (err: unknown) => {
    await staged.discard()
    throw err
  })
}

/**
 * A dot name of fixed length beside `file`. It does not contain the file's name: a name near
 * NAME_MAX (255 bytes) must still get its temporary, and the dot keeps the scanner off it.
 */
export function tempName(file: string, kind: 'tmp' | 'old'): string {
  return path.join(path.dirname(file), `.${kind}-${randomBytes(8).toString('hex')}`)
}

/** After a rename, the folder's entry is on disk only once the folder itself is fsynced. */
export async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch (err) {
    // Some filesystems cannot fsync a folder (EINVAL); the rename stands either way.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err
  } finally {
    await handle.close()
  }
}
