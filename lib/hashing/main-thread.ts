import { handleMessage } from './hasher.js'

/**
 * The main thread standing in for one hashing worker, for a one-shot command whose main thread
 * has nothing else to do while it hashes (`create`). It takes the scheduler's messages like a
 * worker and runs them one per turn of the event loop (a 4 MiB chunk is ~3 ms of SHA-1), so the
 * workers' replies are handled, and the workers fed, between two chunks.
 *
 * Why: booting a worker is a new V8 isolate and Node environment, ~145 M instructions (callgrind)
 * and 25 to 65 ms of CPU as the machine is idle or busy, and `create` of a 1 MB file with two
 * workers was 690 M instructions in all, against 319 M now. With two threads, the main thread and
 * one worker hash as fast as two workers did while the main thread idled, with less CPU
 * (`npm run bench:hash`, create v1 beside mktorrent).
 * Never in `serve`: a chunk would hold up every socket for its ~3 ms.
 */
export class MainThread {
  private readonly queue: unknown[] = []
  private immediate: NodeJS.Immediate | undefined

  /** `onMessage` gets the replies; `onError` an error that escaped the handler (a bug). */
  constructor(
    private readonly onMessage: (reply: object) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  postMessage(message: unknown): void {
    this.queue.push(message)
    this.immediate ??= setImmediate(this.next)
  }

  private readonly next = () => {
    this.immediate = undefined
    const message = this.queue.shift()
    if (this.queue.length > 0) this.immediate = setImmediate(this.next)
    try {
      handleMessage(message, this.onMessage)
    } catch (error) {
      this.onError(error as Error)
    }
  }

  /** A queued message keeps the process alive through its immediate; an idle one holds nothing. */
  ref(): void {}
  unref(): void {}

  terminate(): Promise<void> {
    this.queue.length = 0
    if (this.immediate !== undefined) clearImmediate(this.immediate)
    this.immediate = undefined
    return Promise.resolve()
  }
}
