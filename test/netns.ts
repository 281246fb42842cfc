import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/**
 * A network namespace the test creates for a client that must not see the seeder on loopback
 * (Transmission drops peers in 127.0.0.0/8 as "martian"). A veth pair joins it to this host,
 * with a /30 taken at random from the upper half of 192.0.2.0/24 (TEST-NET-1): a /30 is more
 * specific than any /24 the host may already hold there (a CI runner's own network may be
 * 192.0.2.0/24), so only these four addresses are routed over the pair. Names start with
 * `msei`; `remove()` deletes both.
 */
export interface Netns {
  name: string
  hostAddress: string
  clientAddress: string
  /** Spawns `cmd` inside the namespace. */
  spawn(cmd: string, args: string[], options?: SpawnOptions): ChildProcess
  /** Runs `cmd` inside the namespace to its end. */
  run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string }
  remove(): void
}

function ip(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  return { ok: r.status === 0, err: (r.stderr ?? String(r.error ?? '')).trim() }
}

/**
 * Creates the namespace, or says why it cannot (not root, no `ip`): the caller skips with that
 * reason, except under CI=true, where it must not skip.
 */
export function createNetns(): { netns: Netns | null; reason: string } {
  const id = randomBytes(3).toString('hex')
  const block = 128 + 4 * (randomBytes(1)[0] % 32)
  const hostAddress = `192.0.2.${block + 1}`
  const clientAddress = `192.0.2.${block + 2}`
  const name = `msei-${id}`
  const hostIf = `msei${id}h`
  const clientIf = `msei${id}c`
  const steps: string[][] = [
    ['netns', 'add', name],
    ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', clientIf],
    ['link', 'set', clientIf, 'netns', name],
    ['addr', 'add', `${hostAddress}/30`, 'dev', hostIf],
    ['link', 'set', hostIf, 'up'],
    ['-n', name, 'addr', 'add', `${clientAddress}/30`, 'dev', clientIf],
    ['-n', name, 'link', 'set', clientIf, 'up'],
    ['-n', name, 'link', 'set', 'lo', 'up'],
  ]
  const remove = () => {
    ip(['link', 'del', hostIf])
    ip(['netns', 'del', name])
  }
  for (const step of steps) {
    const r = ip(step)
    if (!r.ok) {
      remove()
      const reason = `(skipped: cannot create a network namespace: ip ${step.join(' ')}: ${r.err})`
      if (process.env.CI === 'true')
        throw new Error(`CI=true requires network namespaces ${reason}`)
      return { netns: null, reason }
    }
  }
  return {
    reason: '',
    netns: {
      name,
      hostAddress,
      clientAddress,
      spawn: (cmd, args, options = {}) =>
        spawn('ip', ['netns', 'exec', name, cmd, ...args], options),
      run: (cmd, args) => {
        const r = spawnSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8' })
        return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
      },
      remove,
    },
  }
}
