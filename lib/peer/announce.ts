import { decode, type BencodeDict } from '../bencode/index.ts'
import { log } from '../log/index.ts'
import { trackerKey } from '../metainfo/index.ts'
import type { SeedTorrent } from './torrent.ts'

/**
 * A small HTTP tracker client (BEP 3, BEP 23) so the seeder is found through a torrent's extra
 * trackers too: `started` when a torrent is added, every `interval` after, `stopped` on removal.
 * Our own in-process tracker lists the seeder itself and is left out with `exclude`.
 */

export interface AnnounceParams {
  infoHash: Buffer
  peerId: Buffer
  port: number
  uploaded: number
  event?: 'started' | 'stopped' | 'completed'
}

/** Raw bytes percent-encoded one by one, as clients send them (docs/architecture.md, "What real clients do"). */
function encodeBytes(bytes: Buffer): string {
  let out = ''
  for (const b of bytes) {
    const c = String.fromCharCode(b)
    out += /[A-Za-z0-9.\-_~]/.test(c) ? c : '%' + b.toString(16).padStart(2, '0')
  }
  return out
}

export function announceUrl(tracker: string, p: AnnounceParams): string {
  const query =
    `info_hash=${encodeBytes(p.infoHash)}&peer_id=${encodeBytes(p.peerId)}&port=${p.port}` +
    `&uploaded=${p.uploaded}&downloaded=0&left=0&compact=1&numwant=0` +
    (p.event ? `&event=${p.event}` : '')
  return tracker + (tracker.includes('?') ? '&' : '?') + query
}

/** The tracker's answer: the interval to wait, or its failure reason. */
export function parseAnnounceResponse(body: Buffer): { interval: number } | { failure: string } {
  let d: BencodeDict
  try {
    const value = decode(body, { allowUnsortedKeys: true })
    if (typeof value !== 'object' || Buffer.isBuffer(value) || Array.isArray(value))
      throw new Error('not a dictionary')
    d = value as BencodeDict
  } catch (err) {
    return { failure: `unreadable tracker reply: ${(err as Error).message}` }
  }
  const failure = d['failure reason']
  if (Buffer.isBuffer(failure)) return { failure: failure.toString('utf8') }
  const interval = typeof d.interval === 'number' ? d.interval : 1800
  return { interval }
}

/** HTTP(S) trackers of a torrent, deduplicated, in tier order (BEP 12). */
export function httpTrackers(torrent: Pick<SeedTorrent, 'announce' | 'announceList'>): string[] {
  const all = [...torrent.announceList.flat(), ...(torrent.announce ? [torrent.announce] : [])]
  return [...new Set(all.filter((u) => /^https?:\/\//i.test(u)))]
}

interface Job {
  timer: NodeJS.Timeout | null
  infoHash: Buffer
  trackers: string[]
}

export interface AnnouncerOptions {
  peerId: Buffer
  /** The port peers should connect to: the seeder's public port. */
  port: number
  /** Bytes uploaded for a torrent so far (from the seeder's counters). */
  uploaded(infoHash: Buffer): number
  /** Trackers not to announce to, such as our own. */
  exclude?: (url: string) => boolean
  /** Bounds on the tracker's interval, in seconds. */
  minInterval?: number
  maxInterval?: number
  retryInterval?: number
  fetch?: typeof fetch
}

/**
 * The most of an external tracker's reply we read. A reply is a few hundred bytes (50 compact
 * peers are 300); a hostile or broken tracker streaming gigabytes must not fill our memory.
 */
export const MAX_REPLY_BYTES = 64 * 1024

/** The body of `res`, refused (and the download stopped) past `max` bytes. */
async function readCapped(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > max) {
    await res.body?.cancel()
    throw new Error(`tracker reply of ${declared} bytes is over the ${max}-byte limit`)
  }
  const parts: Buffer[] = []
  let size = 0
  if (res.body) {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.length
      // Leaving the loop by a throw cancels the stream: the rest is never downloaded.
      if (size > max) throw new Error(`tracker reply is over the ${max}-byte limit`)
      parts.push(Buffer.from(chunk))
    }
  }
  return Buffer.concat(parts)
}

/**
 * @example
 * const announcer = new Announcer({ peerId: seeder.peerId, port: 6881, uploaded: …, exclude: (u) => u.startsWith(ourUrl) })
 * announcer.add(torrent)
 */
export class Announcer {
  private jobs = new Map<string, Job>()
  private readonly doFetch: typeof fetch

  constructor(private readonly opts: AnnouncerOptions) {
    this.doFetch = opts.fetch ?? fetch
  }

  add(torrent: SeedTorrent): void {
    const infoHash = trackerKey(torrent)
    const key = infoHash.toString('hex')
    const trackers = httpTrackers(torrent).filter((u) => !this.opts.exclude?.(u))
    if (trackers.length === 0 || this.jobs.has(key)) return
    const job: Job = { timer: null, infoHash, trackers }
    this.jobs.set(key, job)
    for (const tracker of trackers) void this.announce(job, tracker, 'started')
  }

  async remove(infoHash: Buffer): Promise<void> {
    const key = infoHash.subarray(0, 20).toString('hex')
    const job = this.jobs.get(key)
    if (!job) return
    this.jobs.delete(key)
    if (job.timer) clearTimeout(job.timer)
    await Promise.all(job.trackers.map((t) => this.send(job, t, 'stopped').catch(() => {})))
  }

  async close(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((job) => this.remove(job.infoHash)))
  }

  private async send(job: Job, tracker: string, event?: AnnounceParams['event']) {
    const url = announceUrl(tracker, {
      infoHash: job.infoHash,
      peerId: this.opts.peerId,
      port: this.opts.port,
      uploaded: this.opts.uploaded(job.infoHash),
      event,
    })
    const res = await this.doFetch(url, { signal: AbortSignal.timeout(15_000) })
    return parseAnnounceResponse(await readCapped(res, MAX_REPLY_BYTES))
  }

  private async announce(job: Job, tracker: string, event?: 'started'): Promise<void> {
    let wait = this.opts.retryInterval ?? 300
    try {
      const reply = await this.send(job, tracker, event)
      if ('failure' in reply)
        log.warn('tracker refused announce', { tracker, reason: reply.failure })
      else
        wait = Math.min(
          Math.max(reply.interval, this.opts.minInterval ?? 60),
          this.opts.maxInterval ?? 3600,
        )
    } catch (err) {
      log.warn('announce failed', { tracker, error: err as Error })
    }
    if (this.jobs.get(job.infoHash.toString('hex')) !== job) return
    // One timer per tracker would be simpler to read but the job keeps only the latest; trackers
    // of one torrent share their schedule after the first round.
    if (job.timer) clearTimeout(job.timer)
    job.timer = setTimeout(() => {
      for (const t of job.trackers) void this.announce(job, t)
    }, wait * 1000)
    job.timer.unref()
  }
}
