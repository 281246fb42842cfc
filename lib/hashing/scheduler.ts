import { HashError } from './errors.ts'
import { chunks, type Chunk, type Layout } from './layout.ts'
import { acquire, type PoolThread } from './pool.ts'
import type { DigestAlgorithm } from './types.ts'

/** What a worker needs to know about a real file: where it is and what it must still be. */
export interface WorkerFile {
  path: string
  length: number
  dev: bigint
  ino: bigint
  mtimeNs: bigint
  ctimeNs: bigint
}

export interface ChunkHashes {
  /** v1: 20 bytes per piece of the chunk */
  pieces?: Uint8Array
  /** v2: consecutive piece hashes of one file, starting at the file's piece `piece` */
  layers: Array<{ file: number; piece: number; hashes: Uint8Array }>
}

export interface Schedule {
  layout: Layout
  files: Array<WorkerFile | null>
  v1: boolean
  v2: boolean
  digests: DigestAlgorithm[]
  threads: number
  signal?: AbortSignal
  onChunk: (chunk: Chunk, hashes: ChunkHashes) => void
  onDigest: (file: number, algorithm: DigestAlgorithm, digest: Uint8Array) => void
}

// Messages (main → worker), each naming its job: job {files, pieceLength, v1, v2, slots,
// control}, chunk {id, slot, start, end, segments}, digest {id, slot, parts}, end. Worker → main:
// chunk {id, pieces, layers}, digest {id, done}, error {id, code, message}.
type FromWorker = { job: number } & (
  | ({ type: 'chunk'; id: number } & ChunkHashes)
  | {
      type: 'digest'
      id: number
      done: Array<{ file: number; algorithm: DigestAlgorithm; digest: Uint8Array }>
    }
  | { type: 'error'; id: number; code: 'changed' | 'io'; message: string }
)

type Thread = PoolThread

interface InFlight {
  chunk: Chunk
  slot: number
  /** digest messages not yet answered; the slot is reused only when they are */
  digestReplies: number
}

// Three tasks queued per thread: one being hashed, two ready, so a thread does not wait on the
// main thread between chunks even when a busy machine schedules the main thread late.
const QUEUE_DEPTH = 3
const SLOT_MEMORY = 64 << 20

// Relative cost per byte (SHA-NI makes SHA-256 as fast as SHA-1; SHA-512 and BLAKE2b run at
// about half that speed), to give each thread a fair share of the digests.
const DIGEST_COST: Record<DigestAlgorithm, number> = { sha256: 1, sha512: 2, blake2b512: 2 }

// The slots of a finished job, kept for the next job of the same slot length (whole chunks: every
// release bigger than a chunk). A new SharedArrayBuffer is fresh zeroed memory each time, faulted
// in again by the threads that fill it: a first scan of 50 releases of 8 MiB allocated 600 MB of
// them, 0.4 s of the main thread alone (bench/scan.ts).
let spare: SharedArrayBuffer[] = []
let forget: NodeJS.Timeout | undefined

function takeSlots(count: number, length: number): SharedArrayBuffer[] {
  if (spare.length > 0 && spare[0].byteLength !== length) spare = []
  const slots = spare.splice(0, count)
  while (slots.length < count) slots.push(new SharedArrayBuffer(length))
  return slots
}

function keepSlots(slots: SharedArrayBuffer[], reusable: boolean): void {
  if (!reusable || slots.length === 0) return
  if (spare.length > 0 && spare[0].byteLength !== slots[0].byteLength) spare = []
  // Bounded like one job's slots: jobs that run at once allocate the rest afresh.
  const room = Math.max(0, Math.floor(SLOT_MEMORY / slots[0].byteLength) - spare.length)
  spare.push(...slots.slice(0, room))
  // Kept while jobs follow one another (a scan's releases), not by a process gone idle (`serve`
  // between passes), whose resident memory they would stay in.
  clearTimeout(forget)
  forget = setTimeout(() => (spare = []), 1000)
  forget.unref()
}

/**
 * Runs every chunk of the layout on worker threads, each chunk read once by the thread hashing it.
 * Whole-file digests are sequential by nature: each file's digest belongs to one thread, which
 * gets that file's bytes in order from the slots after they were hashed, while the other threads
 * keep reading and hashing pieces; a slot is reused once both are done. Memory is bounded by the
 * slots (a few chunks per thread, about 64 MiB at most, only with digests) whatever the sizes.
 */
export function runWorkers(schedule: Schedule): Promise<void> {
  const { layout, files, digests, signal } = schedule
  const chunkCount = Math.ceil(layout.streamLength / layout.chunkLength)
  const threadCount = Math.max(1, Math.min(schedule.threads, chunkCount))
  // Only whole-file digests need a chunk to outlive its hashing (see above); without them a
  // thread reads into its own 256 KiB window and the slots are mere tickets that bound the queue.
  // Large pieces make large chunks: then fewer slots (at least one per thread and two for the
  // digests' lag), keeping shared memory near SLOT_MEMORY (16 MiB pieces: 4 slots, 64 MiB).
  const slotLength = Math.min(layout.chunkLength, layout.streamLength)
  const queued = threadCount * QUEUE_DEPTH + (digests.length > 0 ? 2 : 0)
  const affordable = Math.max(threadCount + 2, Math.floor(SLOT_MEMORY / slotLength))
  const slotCount = Math.min(chunkCount, queued, affordable)
  const slots = digests.length > 0 ? takeSlots(slotCount, slotLength) : []
  const freeSlots = Array.from({ length: slotCount }, (_, i) => i)
  const control = new SharedArrayBuffer(4)
  const jobData = {
    type: 'job',
    files,
    pieceLength: layout.pieceLength,
    v1: schedule.v1,
    v2: schedule.v2,
    slots,
    control,
  }

  return new Promise<void>((resolve, reject) => {
    const pending = chunks(layout)
    let next = pending.next()
    let sequence = 0
    const inFlight = new Map<number, InFlight>()
    // Digests need each file's bytes in order, chunks finish in any order: hashed chunks wait
    // here until every earlier one is hashed too.
    const hashed = new Map<number, InFlight>()
    let nextToDigest = 0
    // Each (file, algorithm) digest belongs to one thread: a release's SHA-512 and SHA-256 of
    // one big artifact then run on two cores instead of one after the other.
    const digestOwner = new Map<string, Thread>()
    let finished = false
    const queuedHere = new Map<Thread, number>()
    const digestCost = new Map<Thread, number>()
    const take = (thread: Thread, n: number) => {
      thread.queued += n
      queuedHere.set(thread, (queuedHere.get(thread) ?? 0) + n)
    }

    const finish = (error?: unknown) => {
      if (finished) return
      finished = true
      Atomics.store(new Int32Array(control), 0, 1)
      signal?.removeEventListener('abort', onAbort)
      // What this job still has queued on a thread is no longer anyone's work.
      for (const thread of threads) {
        thread.queued -= queuedHere.get(thread) ?? 0
        thread.digestBytes -= digestCost.get(thread) ?? 0
      }
      void job.release().then(() => {
        // Every thread has dropped the job: no one reads or writes its slots any more.
        keepSlots(slots, slotLength === layout.chunkLength)
        if (error !== undefined) reject(error)
        else resolve()
      })
    }
    const onAbort = () => finish(new HashError('aborted', 'hashing was aborted'))

    const pump = () => {
      while (!next.done && freeSlots.length > 0) {
        // The depth is this job's own: a job must not wait on the replies of another (only
        // its own replies pump it); among its threads the least busy overall takes the chunk.
        let thread: Thread | undefined
        for (const t of threads) {
          if ((queuedHere.get(t) ?? 0) >= QUEUE_DEPTH) continue
          if (thread === undefined || t.queued < thread.queued) thread = t
        }
        if (thread === undefined) break
        const chunk = next.value
        const slot = freeSlots.pop()
        if (slot === undefined) break
        const id = sequence++
        inFlight.set(id, { chunk, slot, digestReplies: 0 })
        take(thread, 1)
        const { start, end, segments } = chunk
        const shared = digests.length > 0 ? slot : -1
        const message = { type: 'chunk', job: job.id, id, slot: shared, start, end, segments }
        thread.worker.postMessage(message)
        next = pending.next()
      }
      if (next.done && inFlight.size === 0) finish()
    }

    const sendDigests = () => {
      for (
        let task = hashed.get(nextToDigest);
        task !== undefined;
        task = hashed.get(nextToDigest)
      ) {
        hashed.delete(nextToDigest)
        type Part = {
          file: number
          algorithm: DigestAlgorithm
          at: number
          length: number
          last: boolean
        }
        const byThread = new Map<Thread, Part[]>()
        for (const s of task.chunk.segments) {
          const file = files[s.file]
          if (s.pad || !file) continue
          const last = s.fileOffset + s.length === file.length
          for (const algorithm of digests) {
            const key = `${s.file}/${algorithm}`
            let owner = digestOwner.get(key)
            if (owner === undefined) {
              owner = threads.reduce((a, b) => (b.digestBytes < a.digestBytes ? b : a))
              const cost = file.length * DIGEST_COST[algorithm]
              owner.digestBytes += cost
              digestCost.set(owner, (digestCost.get(owner) ?? 0) + cost)
              digestOwner.set(key, owner)
            }
            if (last) digestOwner.delete(key)
            const parts = byThread.get(owner) ?? []
            parts.push({ file: s.file, algorithm, at: s.at, length: s.length, last })
            byThread.set(owner, parts)
          }
        }
        for (const [thread, parts] of byThread) {
          take(thread, 1)
          task.digestReplies++
          const message = { type: 'digest', job: job.id, id: nextToDigest, slot: task.slot, parts }
          thread.worker.postMessage(message)
        }
        if (task.digestReplies === 0) release(nextToDigest, task)
        nextToDigest++
      }
    }

    const release = (id: number, task: InFlight) => {
      inFlight.delete(id)
      freeSlots.push(task.slot)
    }

    const onMessage = (thread: Thread, message: FromWorker) => {
      if (finished) return
      take(thread, -1)
      if (message.type === 'error') return finish(new HashError(message.code, message.message))
      const task = inFlight.get(message.id)
      if (!task) return
      if (message.type === 'chunk') {
        schedule.onChunk(task.chunk, message)
        if (digests.length === 0) release(message.id, task)
        else {
          hashed.set(message.id, task)
          sendDigests()
        }
      } else {
        for (const { file, algorithm, digest } of message.done)
          schedule.onDigest(file, algorithm, digest)
        if (--task.digestReplies === 0) release(message.id, task)
      }
      pump()
    }

    const job = acquire(
      threadCount,
      (message, thread) => {
        try {
          onMessage(thread, message as FromWorker)
        } catch (error) {
          finish(error) // an onProgress callback that threw: its error, as it threw it
        }
      },
      (error) => finish(new HashError('io', error.message)),
    )
    const threads = job.threads
    for (const thread of threads) thread.worker.postMessage({ ...jobData, job: job.id })
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    pump()
  })
}
