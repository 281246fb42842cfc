import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { DatabaseError } from './errors.ts'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else; that still holds the folder.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes `<dir>/db.lock` for this process. PGlite is a single-process database: two processes on
 * one folder would each believe they own the files and lose each other's writes, so the second
 * one must stop at once with a message that says who holds the folder. A lock left by a process
 * that died (kill -9, power loss) is taken over.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true })
  const file = `${dir}/db.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644)
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file)
        } catch {
          // Already gone: nothing to release.
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number.parseInt(readFileSync(file, 'utf8'), 10)
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new DatabaseError(
          'locked',
          `the data folder ${dir} is in use by another mirrorseed (pid ${holder}); ` +
            'stop it, or give this one its own --data-dir, or use DATABASE_URL for a shared Postgres',
        )
      }
      unlinkSync(file)
    }
  }
  throw new DatabaseError('locked', `could not take the lock on the data folder ${dir}`)
}
