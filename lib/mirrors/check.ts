import { matches, type Probe } from './probe.ts'
import { MirrorseedError } from '../errors/index.ts'

/** Why a mirror is down, for a person and for a test to tell the failures apart. */
export type MirrorProblem =
  | 'unreachable'
  | 'timeout'
  | 'redirect'
  | 'http-status'
  | 'no-range'
  | 'bad-range'
  | 'wrong-size'
  | 'wrong-bytes'

export interface MirrorCheck {
  status: 'up' | 'down'
  /** Round trip of the first `HEAD`; null when the mirror never answered. */
  latencyMs: number | null
  problem: MirrorProblem | null
  error: string | null
}

class Down extends MirrorseedError<MirrorProblem> {
  get problem(): MirrorProblem {
    return this.code
  }
}

/**
 * Asks a mirror for each probe's bytes the way a web-seed client does, and says whether it serves
 * them right. Each file gets a `HEAD` (200, the right `Content-Length`) and a `Range` GET that
 * must answer `206 Partial Content` with exactly the bytes asked: Transmission insists on 206 and
 * clients do not follow redirects for web seeds (docs/architecture.md, "What real clients do"), so a redirect
 * or a 200 with the whole file is a mirror that does not work as a web seed. The bytes of each
 * probe must hash to what the torrent says.
 *
 * @example
 * const check = await checkMirror('https://mirror.example/gentoo', probes, { timeoutMs: 15_000 })
 * if (check.status === 'down') console.log(check.problem, check.error)
 */
export async function checkMirror(
  baseUrl: string,
  probes: readonly Probe[],
  options: { timeoutMs: number },
): Promise<MirrorCheck> {
  const base = baseUrl.replace(/\/+$/, '')
  let latencyMs: number | null = null
  try {
    const headed = new Set<string>()
    for (const probe of probes) {
      const chunks: Buffer[] = []
      for (const part of probe.parts) {
        if (part.kind === 'zeros') {
          chunks.push(Buffer.alloc(part.length))
          continue
        }
        const url = `${base}/${part.url}`
        if (!headed.has(url)) {
          const started = performance.now()
          const head = await request(url, 'HEAD', {}, options.timeoutMs)
          latencyMs ??= Math.round(performance.now() - started)
          await head.body?.cancel()
          expectStatus(head, 200, url)
          const length = head.headers.get('content-length')
          if (length !== null && Number(length) !== part.fileSize) {
            throw new Down(
              'wrong-size',
              `HEAD ${url}: Content-Length ${length}, the torrent says ${part.fileSize}`,
            )
          }
          headed.add(url)
        }
        const last = part.start + part.length - 1
        const range = `bytes=${part.start}-${last}`
        const response = await request(url, 'GET', { range }, options.timeoutMs)
        if (response.status === 200) {
          await response.body?.cancel()
          throw new Down('no-range', `GET ${url} with Range: ${range} answered 200, not 206`)
        }
        if (response.status !== 206) {
          await response.body?.cancel()
          expectStatus(response, 206, url)
        }
        const contentRange = response.headers.get('content-range')
        if (contentRange !== `bytes ${part.start}-${last}/${part.fileSize}`) {
          await response.body?.cancel()
          throw new Down(
            'bad-range',
            `GET ${url} with Range: ${range} answered Content-Range ${contentRange ?? '(none)'}`,
          )
        }
        chunks.push(await readExactly(response, part.length, url, options.timeoutMs))
      }
      if (!matches(probe, Buffer.concat(chunks))) {
        throw new Down('wrong-bytes', `${probe.label}: the bytes served do not match the torrent`)
      }
    }
    return { status: 'up', latencyMs, problem: null, error: null }
  } catch (err) {
    if (err instanceof Down)
      return { status: 'down', latencyMs, problem: err.problem, error: err.message }
    throw err
  }
}

async function request(
  url: string,
  method: 'HEAD' | 'GET',
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      headers: { ...headers, 'user-agent': 'mirrorseed-mirror-check' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    throw failed(err, `${method} ${url}`, timeoutMs)
  }
}

function failed(err: unknown, what: string, timeoutMs: number): Down {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new Down('timeout', `${what}: no answer within ${timeoutMs / 1000} s`)
  }
  const cause = e.cause?.code ?? e.cause?.message ?? e.message
  return new Down('unreachable', `${what}: ${cause}`)
}

function expectStatus(response: Response, want: number, url: string): void {
  if (response.status === want) return
  if (response.status >= 300 && response.status < 400) {
    const to = response.headers.get('location')
    throw new Down(
      'redirect',
      `${url} redirects (${response.status}${to ? ` to ${to}` : ''}); web-seed clients need the file itself`,
    )
  }
  throw new Down('http-status', `${url} answered ${response.status}, not ${want}`)
}

/** The body, refusing one longer or shorter than asked (never reads more than `length` + a chunk). */
async function readExactly(
  response: Response,
  length: number,
  url: string,
  timeoutMs: number,
): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length)
  let at = 0
  if (!response.body) throw new Down('wrong-size', `${url}: the answer has no body`)
  const reader = response.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (at + value.length > length) {
        throw new Down('bad-range', `GET ${url}: more bytes than the ${length} asked for`)
      }
      out.set(value, at)
      at += value.length
    }
  } catch (err) {
    if (err instanceof Down) throw err
    throw failed(err, `GET ${url}`, timeoutMs)
  } finally {
    await reader.cancel().catch(() => {})
  }
  if (at !== length) throw new Down('bad-range', `GET ${url}: ${at} bytes, ${length} asked for`)
  return out
}
