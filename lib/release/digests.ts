/**
 * Parsers for the checksum files distributions publish beside their artifacts: Gentoo `.DIGESTS`
 * (`# <ALGO> HASH` headers, then `<hex>  <file name>` lines), `.sha256`/`.sha512`, Debian
 * `SHA256SUMS`/`SHA512SUMS` (GNU coreutils lines, `*name` in binary mode) and BSD-tagged
 * `SHA256 (name) = hex` lines. Lenient by design: a line that cannot be read, or a hash in an
 * algorithm we do not verify (SHA1, MD5, WHIRLPOOL of old Gentoo releases), is skipped; the
 * strictness is in the check, where a listed hash that does not match fails the release.
 */

/** The whole-file digests we verify, by Node crypto name, in order of preference. */
export const digestAlgorithms = ['sha256', 'sha512', 'blake2b512'] as const
export type DigestAlgorithm = (typeof digestAlgorithms)[number]

export interface DigestLine {
  algorithm: DigestAlgorithm
  /** Lower-case hex. */
  hex: string
  /** As listed, without `*` or `./`; may hold `/` when the list names a subdirectory. */
  fileName: string
}

const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128, blake2b512: 128 }

/**
 * Which digest files a release can carry, and the algorithm a bare `<hex>  <name>` line in each
 * means (`null`: only the file's `# ALGO HASH` headers or the hash length say). Undefined when
 * `fileName` is not a digest file at all (a signature, a CONTENTS list).
 */
export function digestFileKind(fileName: string): DigestAlgorithm | null | undefined {
  if (/\.DIGESTS(\.asc)?$/.test(fileName)) return null
  if (/(^SHA256SUMS$|\.sha256(sum)?$|^sha256sums?(\.txt)?$)/i.test(fileName)) return 'sha256'
  if (/(^SHA512SUMS$|\.sha512(sum)?$|^sha512sums?(\.txt)?$)/i.test(fileName)) return 'sha512'
  if (/(^B2SUMS$|\.b2(sum)?$|^b2sums?(\.txt)?$)/i.test(fileName)) return 'blake2b512'
  if (/(^|[-.])CHECKSUMS?$/.test(fileName)) return null
  return undefined
}

/**
 * Every digest `text` lists in an algorithm we verify. `fileName` (the digest file's own name)
 * tells what a line without a header means: `SHA512SUMS` lines are SHA-512 although a 128-digit
 * hash could as well be BLAKE2B.
 *
 * @example
 * parseDigests(readFileSync('x.iso.DIGESTS', 'utf8'), 'x.iso.DIGESTS')
 * // [{ algorithm: 'blake2b512', hex: '…', fileName: 'x.iso' }, { algorithm: 'sha512', … }]
 */
export function parseDigests(text: string, fileName: string): DigestLine[] {
  const implied = digestFileKind(fileName) ?? null
  const lines: DigestLine[] = []
  // undefined: no header seen yet; null: a header naming an algorithm we do not verify.
  let header: DigestAlgorithm | null | undefined
  let inSignature = false

  for (let line of text.split(/\r?\n/)) {
    // A clearsigned list (old Gentoo `.DIGESTS.asc`): skip the armour, undo dash-escaping.
    if (line.startsWith('-----BEGIN PGP SIGNATURE')) inSignature = true
    if (inSignature) {
      if (line.startsWith('-----END PGP SIGNATURE')) inSignature = false
      continue
    }
    if (line.startsWith('-----BEGIN PGP SIGNED MESSAGE') || /^Hash:\s/.test(line)) continue
    if (line.startsWith('- ')) line = line.slice(2)
    line = line.trim()
    if (line === '') continue

    const headerMatch = /^#\s*([A-Za-z0-9-]+)\s+HASH(ES)?\b/i.exec(line)
    if (headerMatch) {
      header = algorithmNamed(headerMatch[1]) ?? null
      continue
    }
    if (line.startsWith('#')) continue

    const tagged = /^([A-Za-z0-9-]+)\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)$/.exec(line)
    if (tagged) {
      push(lines, algorithmNamed(tagged[1]), tagged[3], tagged[2])
      continue
    }
    const plain = /^\\?([0-9a-fA-F]+)[ \t]+[ *]?(.+)$/.exec(line)
    if (plain) {
      const hex = plain[1]
      const algorithm = header === undefined ? (implied ?? byLength(hex.length)) : header
      push(lines, algorithm ?? undefined, hex, plain[2])
    }
  }
  return lines
}

function push(
  lines: DigestLine[],
  algorithm: DigestAlgorithm | undefined,
  hex: string,
  fileName: string,
): void {
  if (algorithm === undefined || hex.length !== hexLength[algorithm]) return
  const name = fileName.replace(/^(\.\/)+/, '')
  if (name === '') return
  lines.push({ algorithm, hex: hex.toLowerCase(), fileName: name })
}

function algorithmNamed(name: string): DigestAlgorithm | undefined {
  switch (name.toUpperCase().replace(/-/g, '')) {
    case 'SHA256':
      return 'sha256'
    case 'SHA512':
      return 'sha512'
    case 'BLAKE2B':
    case 'BLAKE2B512':
      return 'blake2b512'
    default:
      return undefined
  }
}

/** Only SHA-256 has a length of its own among the algorithms we verify. */
function byLength(length: number): DigestAlgorithm | undefined {
  return length === 64 ? 'sha256' : undefined
}
