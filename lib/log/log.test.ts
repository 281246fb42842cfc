import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { format } from './index.ts'

describe('log lines', () => {
  it('keep a hostile file name on one line with no control character', () => {
    const name = 'x\u001b[2J\u001b]0;pwned\u0007\r\ninfo forged line\u009b31m\u007f\u2028\ud800.iso'
    const line = format('warn', 'file changed', { file: name, error: new Error(`bad ${name}`) })
    expect(line.endsWith('\n')).toBe(true)
    expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
    // The name is still all there, as a JSON string a reader can decode.
    const quoted = line.match(/file=("(?:[^"\\]|\\.)*")/)![1]!
    expect(JSON.parse(quoted)).toBe(name)
  })

  it('writes an escaped line from the real logger to stderr', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./lib/log/index.ts').then(({ log }) => log.info('seen', { file: 'a\\u001bb c' }))",
      ],
      { encoding: 'utf8' },
    )
    expect(r.stderr).toBe('info seen file="a\\u001bb c"\n')
  })

  it('leaves plain values unquoted', () => {
    expect(format('info', 'listening', { port: 6969, host: '::' })).toBe(
      'info listening port=6969 host=::\n',
    )
  })
})
