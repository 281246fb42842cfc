/**
 * A plain logger: one line per event on stderr, `level msg key=value …`, so that journald, docker
 * logs and a terminal all read it. Debug lines only with `MIRRORSEED_DEBUG=1`.
 *
 * @example
 * log.info('listening', { port: 6969 })
 */
type Fields = Record<string, unknown>

export function format(level: string, msg: string, fields?: Fields): string {
  let line = `${level} ${msg}`
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue
      const text = value instanceof Error ? value.message : String(value)
      line += ` ${key}=${needsQuotes.test(text) ? quote(text) : text}`
    }
  }
  return line + '\n'
}

// File names and peers' strings reach the log: control characters (C0, DEL, C1 such as the
// one-byte CSI U+009B), line separators and lone surrogates would let them forge log lines or
// drive the terminal that reads journald. They leave as JSON escapes.
const needsQuotes = /[\s"=\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/
const unsafe = /[\u007f-\u009f\u2028\u2029]/g

function quote(text: string): string {
  // JSON.stringify escapes C0 and lone surrogates, not DEL, C1 or U+2028/9.
  return JSON.stringify(text).replace(
    unsafe,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

const debugOn = process.env.MIRRORSEED_DEBUG === '1'

export const log = {
  debug(msg: string, fields?: Fields): void {
    if (debugOn) process.stderr.write(format('debug', msg, fields))
  },
  info(msg: string, fields?: Fields): void {
    process.stderr.write(format('info', msg, fields))
  },
  warn(msg: string, fields?: Fields): void {
    process.stderr.write(format('warn', msg, fields))
  },
  error(msg: string, fields?: Fields): void {
    process.stderr.write(format('error', msg, fields))
  },
}

export type Logger = typeof log

export { backgroundFailure, backgroundFailures } from './background.ts'
