/**
 * A small deterministic PRNG (xorshift32) for the fuzz tests, so a failure replays from the seed
 * it prints. A seed of 0 would stay 0 forever, so it starts from 1 instead.
 */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
}
