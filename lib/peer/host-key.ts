/**
 * What the seeder's per-IP connection limit counts: an IPv4 address as it is, an IPv6 address by
 * its /64, since one host is routinely given a whole /64 and can pick any address in it (the
 * tracker's announce limit counts the same way). `::ffff:a.b.c.d` on a dual-stack socket is IPv4.
 *
 * @example
 * hostKey('2001:db8:0:1::5') === hostKey('2001:db8:0:1:ffff::9') // true
 */
export function hostKey(address: string): string {
  if (!address.includes(':')) return address
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) return address.slice(7)
  const zone = address.indexOf('%')
  const bare = zone < 0 ? address : address.slice(0, zone)
  const gap = bare.indexOf('::')
  const groups = (part: string) =>
    part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]))
  const head = groups(gap < 0 ? bare : bare.slice(0, gap))
  const tail = gap < 0 ? [] : groups(bare.slice(gap + 2))
  const all = [...head, ...Array(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail]
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`
}
