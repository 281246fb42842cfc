import { describe, expect, it } from 'vitest'
import { parseRange, parseWebSeedPath, WebSeedError } from './index.ts'
import { prng as rng } from '../../test/prng.ts'

const pathSeeds = [
  '/webseed/releases/amd64/autobuilds/20261117T170000Z/install-amd64-minimal/x.iso',
  '/webseed/debian-cd/13.2.0/amd64/iso-cd/debian-13.2.0-amd64-netinst.iso',
  '/webseed/r/a%20b%C3%BC/%2e%2e/%2F%00?q',
]
const pathAlphabet = [
  '/',
  '%',
  '.',
  '2',
  'e',
  'E',
  'f',
  'F',
  '0',
  'c',
  'a',
  'x',
  '?',
  '\\',
  '\0',
  'ü',
  ' ',
  '%2e',
  '%2f',
  '%00',
  '..',
  '//',
]
const rangeSeeds = ['bytes=0-16383', 'bytes=-500', 'bytes=100-', 'bytes=0-1,5-9', 'items=1-2']
const rangeAlphabet = [
  'bytes',
  '=',
  '-',
  ',',
  ' ',
  '0',
  '1',
  '9',
  '99999999999999999999',
  'a',
  '.',
  '+',
]

function mutate(seed: string, alphabet: string[], random: () => number): string {
  let s = seed
  const edits = 1 + Math.floor(random() * 6)
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (s.length + 1))
    const op = random()
    const piece = alphabet[Math.floor(random() * alphabet.length)]
    if (op < 0.4) s = s.slice(0, at) + piece + s.slice(at)
    else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1)
    else s = s.slice(0, at) + piece + s.slice(at + piece.length)
  }
  return s
}

function randomText(alphabet: string[], random: () => number): string {
  let s = ''
  const n = Math.floor(random() * 40)
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(random() * alphabet.length)]
  return s
}

const budgetMs = 1500

describe('fuzz: web-seed path and range parsers', () => {
  it('a path parses to safe segments or throws WebSeedError, nothing else', () => {
    const random = rng(0x5eed)
    const started = Date.now()
    let accepted = 0
    for (let i = 0; i < 200_000 && Date.now() - started < budgetMs; i++) {
      const input =
        random() < 0.7
          ? mutate(pathSeeds[i % pathSeeds.length], pathAlphabet, random)
          : '/webseed/' + randomText(pathAlphabet, random)
      let out: string
      try {
        out = parseWebSeedPath(input)
      } catch (err) {
        expect(err, input).toBeInstanceOf(WebSeedError)
        continue
      }
      accepted++
      for (const segment of out.split('/')) {
        expect(segment, input).not.toBe('')
        expect(segment, input).not.toBe('.')
        expect(segment, input).not.toBe('..')
        expect(segment.includes('\0'), input).toBe(false)
      }
    }
    // Mutations of real paths must not all be refused, or this would test nothing.
    expect(accepted).toBeGreaterThan(100)
  })

  it('a range is inside the file or throws WebSeedError, nothing else', () => {
    const random = rng(0xbeef)
    const started = Date.now()
    let ranges = 0
    for (let i = 0; i < 200_000 && Date.now() - started < budgetMs; i++) {
      const input =
        random() < 0.7
          ? mutate(rangeSeeds[i % rangeSeeds.length], rangeAlphabet, random)
          : randomText(rangeAlphabet, random)
      const size = Math.floor(random() * 3) === 0 ? 0 : Math.floor(random() * 2 ** (random() * 40))
      let out
      try {
        out = parseRange(input, size)
      } catch (err) {
        expect(err, input).toBeInstanceOf(WebSeedError)
        continue
      }
      if (out === null) continue
      ranges++
      expect(Number.isSafeInteger(out.start) && Number.isSafeInteger(out.end), input).toBe(true)
      expect(out.start, input).toBeGreaterThanOrEqual(0)
      expect(out.start, input).toBeLessThanOrEqual(out.end)
      expect(out.end, `${input} of ${size}`).toBeLessThan(size)
    }
    expect(ranges).toBeGreaterThan(100)
  })
})
