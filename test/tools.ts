import { spawnSync } from 'node:child_process'

/**
 * Real-tool tests (mktorrent, aria2c, libtorrent, nginx, …) skip with a visible reason when the
 * tool is missing on a developer's machine, and fail under `CI=true`, where `.ci/run` must have
 * installed it: a missing tool in CI is a broken install step, not a pass.
 *
 * @example
 * const mktorrent = tool('mktorrent')
 * describe.skipIf(!mktorrent.found)(`mktorrent interop ${mktorrent.reason}`, () => { … })
 */
export function tool(
  name: string,
  probe: string[] = ['--version'],
): { found: boolean; reason: string } {
  const found = spawnSync(name, probe, { stdio: 'ignore' }).error === undefined
  if (!found && process.env.CI === 'true') {
    throw new Error(`${name} is not installed, and CI=true requires it (see .ci/run)`)
  }
  return { found, reason: found ? '' : `(skipped: ${name} is not installed)` }
}

/** Debian's python3-libtorrent lives under the system Python, not a pyenv or venv one. */
export const systemPython = '/usr/bin/python3'

/** Whether the system Python can import libtorrent; same CI rule as {@link tool}. */
export function libtorrent(): { found: boolean; reason: string } {
  const r = spawnSync(systemPython, ['-c', 'import libtorrent'], { stdio: 'ignore' })
  const found = r.status === 0
  if (!found && process.env.CI === 'true') {
    throw new Error('python3-libtorrent is not installed, and CI=true requires it (see .ci/run)')
  }
  return { found, reason: found ? '' : '(skipped: python3-libtorrent is not installed)' }
}
