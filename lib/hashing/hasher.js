// What a hashing thread does with the scheduler's messages (plain JavaScript: see kernel.js for
// why): a worker thread (worker.js) runs it, and so does the main thread of a one-shot command
// (main-thread.ts). A thread reads the chunks it is given itself, so the copy out of the page
// cache is spread over every core instead of serialised on one reader, and hashes them window by
// window while the bytes are still in the CPU cache (into a shared slot when whole-file digests
// need the bytes again on the digest's thread). See scheduler.ts for the message protocol. A
// thread serves every hashing job of the process, each message naming its job; the job's state
// below is swapped in per message.
import { createHash } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { blockHashes, pieceHashV2 } from './kernel.js'

/**
 * @typedef {{ files: Array<{ path: string, length: number, dev: bigint, ino: bigint, mtimeNs: bigint, ctimeNs: bigint } | null>, pieceLength: number, v1: boolean, v2: boolean, slots: SharedArrayBuffer[], aborted: Int32Array, fds: Map<number, number>, digestStates: Map<string, import('node:crypto').Hash> }} Job
 */
/** @type {Map<number, Job>} */
const jobs = new Map()

// The job of the message being handled (one at a time: the thread is synchronous).
let files, pieceLength, v1, v2, slots, aborted, fds, digestStates

// Bytes read then hashed at once: small enough that the kernel copies into a buffer still in L2
// and the hash finds it there, large enough that the read syscall costs nothing. `create` of 2 GiB
// (2 threads, 2 MiB pieces) took 1.93 CPU-s with 256 KiB windows and 1.77 with 64 or 128 KiB
// (perf stat, interleaved runs, bench/hash.ts); mktorrent's 2 MiB reads spend twice our time in
// the kernel copy (perf record: 16 % of its CPU against our 8 %).
const WINDOW = 128 << 10
const scratch = new Uint8Array(WINDOW)

class Stop extends Error {
  /** @param {'changed' | 'io'} code @param {string} message */
  constructor(code, message) {
    super(message)
    this.code = code
  }
}

/** @param {number} file */
function open(file) {
  let fd = fds.get(file)
  if (fd !== undefined) return fd
  const expected = files[file]
  try {
    fd = openSync(expected.path, 'r')
  } catch (error) {
    if (error.code === 'ENOENT')
      throw new Stop('changed', `${expected.path} disappeared while being hashed`)
    throw new Stop('io', `cannot open ${expected.path}: ${error.message}`)
  }
  fds.set(file, fd)
  checkUnchanged(file, fd)
  return fd
}

/**
 * The file behind `fd` must still be the one the main thread saw before hashing started: same
 * inode, size, mtime and ctime. Checked at open, after each chunk (~3 ms of hashing) and at the
 * file's end, so a file rsync is rewriting fails at once, not after the whole pass.
 */
function checkUnchanged(file, fd) {
  const expected = files[file]
  const stat = fstatSync(fd, { bigint: true })
  if (stat.dev !== expected.dev || stat.ino !== expected.ino) {
    throw new Stop('changed', `${expected.path} was replaced while being hashed`)
  }
  if (stat.size !== BigInt(expected.length)) {
    throw new Stop('changed', `${expected.path} changed size while being hashed`)
  }
  if (stat.mtimeNs !== expected.mtimeNs || stat.ctimeNs !== expected.ctimeNs) {
    throw new Stop('changed', `${expected.path} was modified while being hashed`)
  }
}

function close(file) {
  const fd = fds.get(file)
  if (fd === undefined) return
  fds.delete(file)
  closeSync(fd)
}

/** Reads `length` bytes of a file at `position` into view[at…]; a short file has changed. */
function readFully(file, view, at, length, position) {
  const fd = open(file)
  let done = 0
  while (done < length) {
    let n
    try {
      n = readSync(fd, view, at + done, length - done, position + done)
    } catch (error) {
      throw new Stop('io', `cannot read ${files[file].path}: ${error.message}`)
    }
    if (n === 0) throw new Stop('changed', `${files[file].path} got shorter while being hashed`)
    done += n
  }
  if (position + length === files[file].length) {
    checkUnchanged(file, fd)
    close(file)
  }
}

/**
 * Hashes one chunk: v1 SHA-1 per piece, v2 block hashes folded into one hash per piece. Returns
 * undefined when aborted.
 */
function hashChunk({ slot, start, end, segments }) {
  // With whole-file digests the chunk stays in its shared slot for the digest's thread; without,
  // each window is read into this thread's own small buffer and forgotten once hashed.
  const shared = slot >= 0 ? new Uint8Array(slots[slot], 0, end - start) : undefined
  const pieceCount = Math.ceil((end - start) / pieceLength)
  const pieces = v1 ? Buffer.allocUnsafe(pieceCount * 20) : undefined
  /** @type {Array<{ file: number, piece: number, hashes: Buffer[] }>} */
  const layers = []
  let cursor = 0 // first segment that may overlap what is left to read
  for (let p = 0; p < pieceCount; p++) {
    const pieceStart = p * pieceLength
    const pieceEnd = Math.min(pieceStart + pieceLength, end - start)
    const sha1 = v1 ? createHash('sha1') : undefined
    /** @type {Buffer[]} */
    const leaves = []
    let owner // the one real file in this piece, for v2 (files start on piece boundaries)
    for (let w = pieceStart; w < pieceEnd; w += WINDOW) {
      if (Atomics.load(aborted, 0) !== 0) return undefined
      const wEnd = Math.min(w + WINDOW, pieceEnd)
      const view = shared ? shared.subarray(w, wEnd) : scratch.subarray(0, wEnd - w)
      while (cursor < segments.length && segments[cursor].at + segments[cursor].length <= w)
        cursor++
      for (let i = cursor; i < segments.length && segments[i].at < wEnd; i++) {
        const s = segments[i]
        const from = Math.max(s.at, w)
        const to = Math.min(s.at + s.length, wEnd)
        if (s.pad) {
          view.fill(0, from - w, to - w)
          continue
        }
        readFully(s.file, view, from - w, to - from, s.fileOffset + (from - s.at))
        if (v2) {
          if (owner === undefined)
            owner = { segment: s, fileOffset: s.fileOffset + (pieceStart - s.at) }
          for (const leaf of blockHashes(view.subarray(from - w, to - w))) leaves.push(leaf)
        }
      }
      sha1?.update(view)
    }
    sha1?.digest().copy(pieces, p * 20)
    if (owner !== undefined) {
      const file = owner.segment.file
      const piece = Math.floor(owner.fileOffset / pieceLength)
      const hash = pieceHashV2(leaves, pieceLength, files[file].length)
      const last = layers[layers.length - 1]
      if (last !== undefined && last.file === file) last.hashes.push(hash)
      else layers.push({ file, piece, hashes: [hash] })
    }
  }
  // Another thread may read the end of a file this one started: keep open only the file that
  // may go on into this thread's next chunk, so open files stay few whatever the file count.
  const going = segments[segments.length - 1].file
  for (const [file, fd] of [...fds]) {
    checkUnchanged(file, fd)
    if (file !== going) close(file)
  }
  return {
    pieces,
    layers: layers.map((l) => ({ file: l.file, piece: l.piece, hashes: Buffer.concat(l.hashes) })),
  }
}

/**
 * Feeds a chunk's bytes to the running whole-file digests this thread owns, in order; returns
 * the finished ones.
 */
function digestChunk({ slot, parts }) {
  const done = []
  for (const { file, algorithm, at, length, last } of parts) {
    const key = `${file}/${algorithm}`
    let state = digestStates.get(key)
    if (state === undefined) {
      state = createHash(algorithm)
      digestStates.set(key, state)
    }
    state.update(new Uint8Array(slots[slot], at, length))
    if (last) {
      digestStates.delete(key)
      done.push({ file, algorithm, digest: state.digest() })
    }
  }
  return done
}

/**
 * Handles one message of the scheduler; `post` gets the reply, if any, before this returns.
 *
 * @param {any} message
 * @param {(reply: object) => void} post
 */
export function handleMessage(message, post) {
  if (message.type === 'job') {
    jobs.set(message.job, {
      files: message.files,
      pieceLength: message.pieceLength,
      v1: message.v1,
      v2: message.v2,
      slots: message.slots,
      aborted: new Int32Array(message.control),
      fds: new Map(), // open file descriptors by file index
      digestStates: new Map(), // running whole-file digests by `file/algorithm`
    })
    return
  }
  const job = jobs.get(message.job)
  if (job === undefined) return
  ;({ files, pieceLength, v1, v2, slots, aborted, fds, digestStates } = job)
  if (message.type === 'end') {
    for (const file of [...fds.keys()]) close(file)
    jobs.delete(message.job)
    post({ job: message.job, type: 'ended' })
    return
  }
  if (Atomics.load(aborted, 0) !== 0) return
  const reply = { job: message.job, id: message.id }
  try {
    if (message.type === 'chunk') {
      const result = hashChunk(message)
      if (result !== undefined) post({ ...reply, type: 'chunk', ...result })
    } else if (message.type === 'digest') {
      post({ ...reply, type: 'digest', done: digestChunk(message) })
    }
  } catch (error) {
    const code = error instanceof Stop ? error.code : 'io'
    post({ ...reply, type: 'error', code, message: error.message })
  }
}
