import { afterEach } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const bin = fileURLToPath(new URL('../apps/mirrorseed/bin.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `mirrorseed <args>` to the end, as a user at a shell would. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      // The DHT joins through loopback only (nothing answers there): tests never reach out.
      env: { MIRRORSEED_DHT_BOOTSTRAP: '127.0.0.1:9', ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

export interface RunningServe {
  child: ChildProcess
  /** The HTTP port it listens on (read from its log, so `--http-port 0` works). */
  httpPort: number
  udpPort?: number
  peerPort?: number
  url: string
  /** Everything it printed on stderr so far. */
  log(): string
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts `mirrorseed serve <args>` and resolves once it logs the ports it listens on. Unless the
 * arguments say otherwise, it listens on loopback on ephemeral ports (HTTP, UDP and peer).
 */
export function startServe(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunningServe> {
  return new Promise((resolve, reject) => {
    const defaults: Record<string, string> = {
      '--http-port': '0',
      '--udp-port': '0',
      '--peer-port': '0',
      '--host': '127.0.0.1',
    }
    const full = [...args]
    for (const [flag, value] of Object.entries(defaults))
      if (!args.includes(flag)) full.push(flag, value)
    const child = spawn(process.execPath, [bin, 'serve', ...full], {
      env: { MIRRORSEED_DHT_BOOTSTRAP: '127.0.0.1:9', ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`serve did not start in time:\n${stderr}`))
    }, 60_000)
    child.stdout.resume()
    child.stderr.on('data', (d) => {
      stderr += d
      const m = /listening http=\S*:(\d+)(?: udp=(\d+))?(?: peer=(\d+))?/.exec(stderr)
      if (m) {
        clearTimeout(timer)
        const httpPort = Number(m[1])
        resolve({
          child,
          httpPort,
          udpPort: m[2] ? Number(m[2]) : undefined,
          peerPort: m[3] ? Number(m[3]) : undefined,
          url: `http://127.0.0.1:${httpPort}`,
          log: () => stderr,
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null) child.kill(signal)
            return exited
          },
        })
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code} before listening:\n${stderr}`))
    })
  })
}

/** Polls `probe` until it gives a value (not undefined or false), or fails after `ms`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Resolves once `serve` answers /readyz with 200 (first scan done). */
export function ready(serve: RunningServe): Promise<true> {
  return until('readiness', async () => (await fetch(`${serve.url}/readyz`)).ok)
}

/**
 * What the tests of one file start and make, let go after each test: `serve` processes killed,
 * then everything in `cleanups` undone, newest first (scratch folders, fixture trees). Call once
 * at the top of a test file; it registers its own `afterEach`.
 *
 * @example
 * const { running, cleanups, scratch } = afterEachTest('mirrorseed-e2e-')
 * running.push(await startServe([...treeArgs(tree), '--data-dir', scratch()]))
 */
export function afterEachTest(prefix: string): {
  running: RunningServe[]
  cleanups: Array<() => unknown>
  /** A new empty folder, removed after the test. */
  scratch(): string
} {
  const running: RunningServe[] = []
  const cleanups: Array<() => unknown> = []
  afterEach(async () => {
    for (const serve of running.splice(0)) await serve.stop('SIGKILL')
    for (const clean of cleanups.splice(0).reverse()) await clean()
  })
  return {
    running,
    cleanups,
    scratch() {
      const dir = mkdtempSync(path.join(tmpdir(), prefix))
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
      return dir
    },
  }
}
