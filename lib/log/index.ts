/**
 * A plain logger: one line per event on stderr, `level msg key=value …`, so that journald, docker
 * logs and a terminal all read it. Debug lines only with `MIRRORSEED_DEBUG=1`.
 *
 * @example
 * log.info('listening', { port: 6969 })
 */
type Fields = Record<string, unknown>

function format(level: string, msg: string, fields?: Fields): string {
  let line = `${level} ${msg}`
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue
      const text = value instanceof Error ? value.message : String(value)
      line += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`
    }
  }
  return line + '\n'
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
