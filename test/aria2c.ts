import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import net from 'node:net'

/** A TCP port free on loopback right now (aria2c has no "any port" setting). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/**
 * Runs Debian's aria2c on a `.torrent`, magnet link or metalink (`extra` ends with `-M` for a
 * metalink) as a user would, but finding peers only where the test says: no config file, no DHT,
 * no local discovery, no peer exchange, and no seeding after the download. `spawnIn` runs it
 * elsewhere (a network namespace's `spawn`).
 *
 * @example
 * const run = await aria2c(torrentFile, out)
 * expect(run.code, run.output).toBe(0)
 */
export async function aria2c(
  source: string,
  dir: string,
  extra: string[] = [],
  timeoutMs = 90_000,
  spawnIn: (cmd: string, args: string[], options: SpawnOptions) => ChildProcess = spawn,
): Promise<{ code: number | null; output: string }> {
  const args = [
    '--no-conf',
    `--dir=${dir}`,
    '--seed-time=0',
    '--enable-dht=false',
    '--enable-dht6=false',
    '--bt-enable-lpd=false',
    '--enable-peer-exchange=false',
    '--file-allocation=none',
    '--summary-interval=0',
    '--console-log-level=warn',
    `--listen-port=${await freePort()}`,
    ...extra,
    source,
  ]
  return new Promise((resolve, reject) => {
    const child = spawnIn('aria2c', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout?.on('data', (d) => (output += d))
    child.stderr?.on('data', (d) => (output += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/**
 * Whether a downloaded release (`<dir>/<torrent name>/<file>`) holds, byte for byte, the files
 * of the fixture release it came from.
 */
export function sameAsTree(
  dir: string,
  root: string,
  release: { name: string; artifact: string; companions: string[] },
): boolean {
  return [release.artifact, ...release.companions].every((p) =>
    readFileSync(path.join(dir, release.name, path.posix.basename(p))).equals(
      readFileSync(path.join(root, p)),
    ),
  )
}
