import { execFile } from 'node:child_process'
import { open } from 'node:fs/promises'
import path from 'node:path'
import type { Release } from './scan.ts'

/** One `gpgv` run: a detached signature over a file of the release, or a clearsigned file. */
export interface SignatureCheck {
  /** The signature companion (or the clearsigned file), relative to the root. */
  signature: string
  /** What it signs, relative to the root; the same as `signature` when clearsigned. */
  signed: string
  ok: boolean
  /** gpgv's own words when it refused. */
  detail?: string
}

export type SignatureVerification =
  | { status: 'verified'; checks: SignatureCheck[] }
  | { status: 'unsigned'; message: string }
  | { status: 'failed'; checks: SignatureCheck[]; message: string }

const detachedSuffixes = ['.asc', '.sign', '.sig', '.gpg']
const clearsignHeader = '-----BEGIN PGP SIGNED MESSAGE-----'

/**
 * Checks the release's OpenPGP signatures with `gpgv` against `keyring` (a keyring file, e.g.
 * `gpg --export KEYID > keyring.gpg`): Gentoo's `<artifact>.asc` over the artifact, Debian's
 * `SHA256SUMS.sign` over `SHA256SUMS`, and clearsigned digest files (old Gentoo `.DIGESTS.asc`).
 * Every signature present must verify; `unsigned` when there is none (config decides).
 *
 * @example
 * const sig = await verifySignatures(release, config.release.keyring)
 * if (sig.status === 'failed') hold(release, sig.message)
 */
export async function verifySignatures(
  release: Release,
  keyring: string,
  gpgv = 'gpgv',
): Promise<SignatureVerification> {
  const files = [release.artifact, ...release.companions]
  const byPath = new Map(files.map((f) => [f.path, f]))
  const checks: SignatureCheck[] = []
  for (const file of release.companions) {
    const suffix = detachedSuffixes.find((s) => file.path.endsWith(s))
    const signed = suffix === undefined ? undefined : byPath.get(file.path.slice(0, -suffix.length))
    if (await isClearsigned(file.absPath)) {
      checks.push(await run(gpgv, keyring, [file.absPath], file.path, file.path))
    } else if (signed !== undefined) {
      checks.push(await run(gpgv, keyring, [file.absPath, signed.absPath], file.path, signed.path))
    }
  }
  if (checks.length === 0) {
    return { status: 'unsigned', message: `no signature of ${release.artifact.path} is present` }
  }
  const bad = checks.filter((c) => !c.ok)
  if (bad.length > 0) {
    const message = bad
      .map((c) => `signature ${c.signature} does not verify ${c.signed}`)
      .join('; ')
    return { status: 'failed', checks, message }
  }
  return { status: 'verified', checks }
}

function run(
  gpgv: string,
  keyring: string,
  args: string[],
  signature: string,
  signed: string,
): Promise<SignatureCheck> {
  return new Promise((resolve) => {
    // gpgv looks a keyring name without a slash up in ~/.gnupg; an absolute path is unambiguous.
    execFile(
      gpgv,
      ['--keyring', path.resolve(keyring), ...args],
      { timeout: 60_000 },
      (error, _stdout, stderr) => {
        resolve(
          error === null
            ? { signature, signed, ok: true }
            : { signature, signed, ok: false, detail: stderr.trim() || error.message },
        )
      },
    )
  })
}

async function isClearsigned(absPath: string): Promise<boolean> {
  const handle = await open(absPath, 'r').catch(() => undefined)
  if (handle === undefined) return false
  try {
    const { buffer, bytesRead } = await handle.read(
      Buffer.alloc(clearsignHeader.length),
      0,
      clearsignHeader.length,
      0,
    )
    return buffer.subarray(0, bytesRead).toString('latin1') === clearsignHeader
  } finally {
    await handle.close()
  }
}
