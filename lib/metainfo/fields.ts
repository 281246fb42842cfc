import type { BencodeDict, BencodeValue } from '../bencode/index.ts'
import { MetainfoError, type MetainfoErrorCode } from './errors.ts'
import { unsafeSegment } from './layout.ts'

// Typed reads of decoded bencode fields: each throws a MetainfoError naming the field.

export const fail = (code: MetainfoErrorCode, message: string): never => {
  throw new MetainfoError(code, message)
}

export const isDict = (v: BencodeValue | undefined): v is BencodeDict =>
  typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v)

export function integer(v: BencodeValue | undefined, what: string): number {
  if (v === undefined) fail('missing-key', `${what} is missing`)
  if (typeof v !== 'number' || v < 0) fail('bad-type', `${what} must be a non-negative integer`)
  return v as number
}

export function text(v: BencodeValue | undefined, what: string): string {
  if (v === undefined) fail('missing-key', `${what} is missing`)
  if (!Buffer.isBuffer(v)) fail('bad-type', `${what} must be a string`)
  return (v as Buffer).toString('utf8')
}

export function optionalText(v: BencodeValue | undefined): string | null {
  return Buffer.isBuffer(v) ? v.toString('utf8') : null
}

export function segment(raw: string, where: string): string {
  const why = unsafeSegment(raw)
  if (why) fail('bad-path', `${where} has ${why}`)
  return raw
}
