import { describe, expect, it } from 'vitest'
import { MirrorseedError } from './index.ts'

class ExampleError extends MirrorseedError<'bad-path' | 'not-found'> {}

describe('MirrorseedError', () => {
  it('carries a code, the subclass name and the cause', () => {
    const cause = new Error('ENOENT')
    const err = new ExampleError('not-found', 'no such release', { cause })
    expect(err).toBeInstanceOf(MirrorseedError)
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('ExampleError')
    expect(err.code).toBe('not-found')
    expect(err.cause).toBe(cause)
    expect(String(err)).toBe('ExampleError: no such release')
  })
})
