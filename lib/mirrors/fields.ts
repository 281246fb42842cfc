import { z } from 'zod'

// The checks of a mirror's name and URL, apart from the rest of the store: the API declares its
// requests with them, and a `scan`, which reads the healthy mirrors but never adds one, does not
// load zod for them (~90 ms of CPU at start-up, bench/scan.ts).

/** A mirror's name: what the CLI and the API address it by, so nothing a URL path must escape. */
export const mirrorName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    'must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
  )

/**
 * A mirror's base URL: http or https, no query or fragment (a client appends paths to it, BEP
 * 19), kept without a trailing `/` so web-seed URLs are built one way.
 */
export const mirrorUrl = z
  .string()
  .max(2048)
  .refine((text) => {
    try {
      const url = new URL(text)
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        !url.search &&
        !url.hash &&
        !url.username &&
        !url.password
      )
    } catch {
      return false
    }
  }, 'must be an http:// or https:// URL without query, fragment or credentials')
  .transform((text) => new URL(text).toString().replace(/\/+$/, ''))
