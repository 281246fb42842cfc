import fs from 'node:fs/promises'
import path from 'node:path'
import type { SourceFile } from './create.ts'
import { MetainfoError } from './errors.ts'

/**
 * Regular files under `dir`, symlinks followed (each real folder once, so a loop ends). Returns
 * the newest mtime (ms) among them, from the same stat that found each file.
 */
async function walk(
  dir: string,
  rel: string[],
  seen: Set<string>,
  out: SourceFile[],
): Promise<number> {
  const real = await fs.realpath(dir)
  if (seen.has(real)) return 0
  seen.add(real)
  let newest = 0
  for (const entry of await fs.readdir(dir)) {
    const full = path.join(dir, entry)
    const s = await fs.stat(full).catch(() => null)
    if (s?.isDirectory()) newest = Math.max(newest, await walk(full, [...rel, entry], seen, out))
    else if (s?.isFile()) {
      out.push({ path: [...rel, entry], source: full })
      newest = Math.max(newest, s.mtimeMs)
    }
  }
  return newest
}

/**
 * The files a torrent of `target` holds, as mktorrent takes them: a file alone (single-file), or
 * every regular file under a folder (multi-file, symlinks followed), and the newest mtime among
 * them in seconds (the torrent's `creation date`, so the same files give the same bytes).
 *
 * @example
 * const { files, multiFile, mtime } = await sourceFiles('debian-13.2.0-amd64-netinst.iso')
 * await createTorrent({ name: 'debian…', files, multiFile, creationDate: mtime })
 */
export async function sourceFiles(
  target: string,
): Promise<{ files: SourceFile[]; multiFile: boolean; mtime: number }> {
  const s = await fs.stat(target).catch((err: NodeJS.ErrnoException) => {
    throw new MetainfoError(
      'bad-input',
      `cannot read ${target}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`,
    )
  })
  const files: SourceFile[] = []
  let mtime: number
  if (s.isFile()) {
    files.push({ path: [path.basename(target)], source: target })
    mtime = s.mtimeMs
  } else if (s.isDirectory()) {
    mtime = await walk(target, [], new Set(), files)
    if (files.length === 0) throw new MetainfoError('no-data', `${target} holds no files`)
  } else throw new MetainfoError('bad-input', `${target} is neither a file nor a directory`)
  return { files, multiFile: s.isDirectory(), mtime: Math.floor(mtime / 1000) }
}
