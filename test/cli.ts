import { spawn, type ChildProcess } from 'node:child_process'
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
      env: { ...process.env, ...options.env },
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
  url: string
  /** Everything it printed on stderr so far. */
  log(): string
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts `mirrorseed serve <args>` and resolves once it logs the HTTP port it listens on.
 * Pass `--http-port 0` for an ephemeral port.
 */
export function startServe(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunningServe> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', ...args], {
      env: { ...process.env, ...options.env },
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
      const m = /listening http=\S*:(\d+)/.exec(stderr)
      if (m) {
        clearTimeout(timer)
        const httpPort = Number(m[1])
        resolve({
          child,
          httpPort,
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
