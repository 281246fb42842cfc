import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { MainThread } from './main-thread.ts'

/**
 * One set of hashing threads for the whole process. Starting a worker costs ~25 ms of CPU and
 * ~10 MB; a first scan of a mirror publishes thousands of small releases, and starting two
 * threads per release made that start-up the whole cost of the scan (1,000 releases of 2 KiB:
 * 54 CPU-s, bench/scan.ts). Threads start on first use, are shared by every hashing job (each
 * message names its job), and are unref'd while idle so they never keep the process alive.
 * A one-shot command may give its main thread as one of them (see main-thread.ts).
 */
export interface PoolThread {
  worker: Worker | MainThread
  /** tasks sent and not answered, over every job: new work goes to the least busy thread */
  queued: number
  /** bytes of whole-file digests this thread owns in running jobs, to spread them fairly */
  digestBytes: number
  /** running jobs that use this thread; the thread holds the process open only while > 0 */
  jobs: number
}

type Listener = (message: { job: number }, thread: PoolThread) => void
type Failure = (error: Error) => void

const threads: PoolThread[] = []
const jobs = new Map<number, { onMessage: Listener; onFailure: Failure; threads: PoolThread[] }>()
let nextJob = 1

function deliver(thread: PoolThread, message: { job: number }) {
  jobs.get(message.job)?.onMessage(message, thread)
}

/** Forgets a thread that died and fails the jobs that had it. */
function fail(thread: PoolThread, error: Error) {
  const at = threads.indexOf(thread)
  if (at < 0) return // told already ('error' is followed by 'exit')
  threads.splice(at, 1)
  for (const job of [...jobs.values()]) if (job.threads.includes(thread)) job.onFailure(error)
}

function start(): PoolThread {
  // execArgv: [] so that a parent run with `--import tsx` does not load tsx again in every
  // worker (~200 ms each); the worker is plain JavaScript.
  const worker = new Worker(new URL('./worker.js', import.meta.url), { execArgv: [] })
  const thread: PoolThread = { worker, queued: 0, digestBytes: 0, jobs: 0 }
  worker.on('message', (message: { job: number }) => deliver(thread, message))
  worker.on('error', (error) => fail(thread, new Error(`hashing thread failed: ${error.message}`)))
  worker.on('exit', () => fail(thread, new Error('a hashing thread exited early')))
  // After the listeners: adding a 'message' listener refs the worker's port again, and a thread
  // started ahead of need (prestart) that no job took would then hold the process open.
  worker.unref()
  threads.push(thread)
  return thread
}

/** A job's view of the pool: its threads, and its own message and failure routing. */
export interface PoolJob {
  id: number
  threads: PoolThread[]
  /**
   * Done with the pool: resolves once every thread has closed the job's files and dropped its
   * state, so a caller that sees hashing end sees its files closed too.
   */
  release(): Promise<void>
}

/**
 * Takes `count` threads (the least busy ones; more are started up to `count`) for one job.
 * `onMessage` gets the job's replies; `onFailure` a thread of the job that died.
 */
export function acquire(count: number, onMessage: Listener, onFailure: Failure): PoolJob {
  while (threads.length < count) start()
  const id = nextJob++
  const chosen = [...threads].sort((a, b) => a.queued - b.queued).slice(0, count)
  for (const thread of chosen) {
    if (thread.jobs++ === 0) thread.worker.ref()
  }
  const job = { onMessage, onFailure, threads: chosen }
  jobs.set(id, job)
  let released: Promise<void> | undefined
  return {
    id,
    threads: chosen,
    release() {
      released ??= new Promise<void>((resolve) => {
        const alive = chosen.filter((thread) => threads.includes(thread))
        let waiting = alive.length + 1
        const ended = () => {
          if (--waiting > 0) return
          jobs.delete(id)
          for (const thread of chosen) if (--thread.jobs === 0) thread.worker.unref()
          resolve()
        }
        // From here on the job only waits for each thread's `ended` (or its death).
        job.onMessage = (message) => {
          if ((message as { type?: string }).type === 'ended') ended()
        }
        job.onFailure = ended
        for (const thread of alive) thread.worker.postMessage({ type: 'end', job: id })
        ended()
      })
      return released
    },
  }
}

/**
 * Starts up to `count` threads now, before any job needs them: a thread takes ~30 ms to boot, and
 * a command that knows it will hash (`scan`) lets that overlap its own start-up (walking the tree,
 * opening the database) instead of waiting for it when the first chunk is ready.
 */
export function prestart(count = defaultThreads()): void {
  while (threads.length < count) start()
}

/**
 * Makes the main thread one of the pool's threads, for a one-shot command with nothing else to do
 * while it hashes (`create`; see main-thread.ts). It is first in the pool: a job of one chunk runs
 * on it alone, without booting a worker, and a larger job starts hashing on it at once while its
 * workers boot.
 */
export function hashOnMainThread(): void {
  if (threads.some((thread) => thread.worker instanceof MainThread)) return
  const main: PoolThread = {
    worker: new MainThread(
      (reply) => deliver(main, reply as { job: number }),
      (error) => fail(main, new Error(`hashing on the main thread failed: ${error.message}`)),
    ),
    queued: 0,
    digestBytes: 0,
    jobs: 0,
  }
  threads.unshift(main)
}

/** Threads a job asks for by default: one per core. */
export function defaultThreads(): number {
  return availableParallelism()
}

/** Stops every thread (tests; a process exits without it, the threads being unref'd). */
export async function closePool(): Promise<void> {
  const all = threads.splice(0)
  await Promise.all(all.map((thread) => thread.worker.terminate()))
}
