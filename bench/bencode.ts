// `npm run bench:bencode`: our bencode beside the `bencode` package on the shapes the appliance
// handles most: a tracker announce reply (encode), a scrape reply keyed by binary info-hashes
// (encode), and a .torrent with a few thousand pieces (decode). Prints operations per second and
// the ratio (ours / package); above 1 means we are faster.
import { randomBytes } from 'node:crypto'
import { decode, encode } from '../lib/bencode/index.ts'

const pkgName = 'bencode'
const pkg = (await import(pkgName)).default as {
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
}

function rate(fn: () => void, ms = 700): number {
  for (let i = 0; i < 200; i++) fn() // warm up
  let n = 0
  const start = performance.now()
  while (performance.now() - start < ms) {
    for (let i = 0; i < 50; i++) fn()
    n += 50
  }
  return n / ((performance.now() - start) / 1000)
}

const announce = {
  complete: 812,
  incomplete: 37,
  interval: 1800,
  'min interval': 900,
  peers: randomBytes(50 * 6),
}
const scrapeFiles = new Map(
  Array.from(
    { length: 50 },
    () => [randomBytes(20), { complete: 5, downloaded: 90, incomplete: 2 }] as const,
  ),
)
// The package only takes string keys; binary ones go in as latin1 (and come out mis-sorted).
const scrapeObject = {
  files: Object.fromEntries([...scrapeFiles].map(([k, v]) => [k.toString('latin1'), v])),
}
const torrent = encode({
  announce: 'http://seed.example/announce',
  'created by': 'mirrorseed/0.1.0',
  'creation date': 1_763_000_000,
  info: {
    length: 4_700_000_000,
    name: 'debian-13.2.0-amd64-DVD-1.iso',
    'piece length': 4 << 20,
    pieces: randomBytes(1121 * 20),
  },
  'url-list': ['http://m1.example/debian-cd/', 'http://m2.example/debian-cd/'],
})

const cases: Array<[string, () => void, () => void]> = [
  ['encode announce reply', () => encode(announce), () => pkg.encode(announce)],
  [
    'encode scrape reply (50 hashes)',
    () => encode({ files: scrapeFiles }),
    () => pkg.encode(scrapeObject),
  ],
  ['decode .torrent (1,121 pieces)', () => decode(torrent), () => pkg.decode(torrent)],
]
// The machine is shared: alternate short rounds and keep each side's best, so a burst of load
// from elsewhere does not land on one side only.
for (const [name, ours, theirs] of cases) {
  let a = 0
  let b = 0
  for (let round = 0; round < 6; round++) {
    a = Math.max(a, rate(ours, 150))
    b = Math.max(b, rate(theirs, 150))
  }
  console.log(
    `${name.padEnd(34)} ours ${Math.round(a).toLocaleString('en').padStart(10)}/s  ` +
      `bencode ${Math.round(b).toLocaleString('en').padStart(10)}/s  ratio ${(a / b).toFixed(2)}`,
  )
}
