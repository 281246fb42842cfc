import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import { decode, type BencodeValue } from './decode.ts'
import { encode } from './encode.ts'
import { BencodeError } from './errors.ts'

// Deterministic PRNG so a failure reproduces (mulberry32).
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomValue(rand: () => number, depth: number): BencodeValue {
  const kind = Math.floor(rand() * (depth > 4 ? 2 : 4))
  if (kind === 0) return Math.floor((rand() - 0.5) * 2 ** 40)
  if (kind === 1) return randomBytes(Math.floor(rand() * 8))
  const n = Math.floor(rand() * 4)
  if (kind === 2) return Array.from({ length: n }, () => randomValue(rand, depth + 1))
  const d: Record<string, BencodeValue> = {}
  for (let i = 0; i < n; i++)
    d[randomBytes(1 + Math.floor(rand() * 3)).toString('latin1')] = randomValue(rand, depth + 1)
  return d
}

const ALPHABET = Buffer.from('ilde0123456789:-')

describe('decode fuzz', () => {
  it('either round-trips byte for byte or throws BencodeError, never hangs', () => {
    const rand = prng(20261121)
    const seeds = Array.from({ length: 200 }, () => encode(randomValue(rand, 0)))
    const deadline = Date.now() + 20_000
    let runs = 0
    let accepted = 0
    while (runs < 400_000 && Date.now() < deadline) {
      let input: Buffer
      const mode = runs % 3
      if (mode === 0) {
        input = randomBytes(Math.floor(rand() * 24))
        for (let i = 0; i < input.length; i++) {
          if (rand() < 0.8) input[i] = ALPHABET[Math.floor(rand() * ALPHABET.length)]
        }
      } else {
        input = Buffer.from(seeds[Math.floor(rand() * seeds.length)])
        const edits = 1 + Math.floor(rand() * 3)
        for (let e = 0; e < edits && input.length > 0; e++) {
          const at = Math.floor(rand() * input.length)
          const op = Math.floor(rand() * 3)
          if (op === 0) input[at] = ALPHABET[Math.floor(rand() * ALPHABET.length)]
          else if (op === 1) input = input.subarray(0, at)
          else input = Buffer.concat([input.subarray(0, at), input.subarray(at + 1)])
        }
      }
      runs++
      let value: BencodeValue
      try {
        value = decode(input)
      } catch (err) {
        if (!(err instanceof BencodeError))
          throw new Error(`${String(err)} on ${input.toString('hex')}`, { cause: err })
        continue
      }
      accepted++
      // Strict decoding means one encoding per value: re-encoding gives the input back.
      const again = encode(value)
      if (!again.equals(input)) throw new Error(`round trip differs for ${input.toString('hex')}`)
    }
    expect(runs).toBeGreaterThan(100_000)
    expect(accepted).toBeGreaterThan(1000)
  }, 60_000)
})
