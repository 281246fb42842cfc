import dgram from 'node:dgram'
import net from 'node:net'

export interface PeerPort {
  server: net.Server
  /** The UDP socket of the same number: uTP and DHT (BEP 29, BEP 5). */
  udp: dgram.Socket
  port: number
}

/** Tries for a port number free on both TCP and UDP when the caller asks for any (port 0). */
const ATTEMPTS = 10

function listenTcp(server: net.Server, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function bindUdp(udp: dgram.Socket, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    udp.once('error', reject)
    udp.bind(port, host, () => {
      udp.off('error', reject)
      resolve()
    })
  })
}

/**
 * Listens on TCP and UDP with one port number, as clients expect: they dial uTP and TCP at the
 * address a tracker or the DHT gave them, and send DHT queries to the port from the BEP 5 `port`
 * message. The UDP socket is IPv4 unless `host` is an IPv6 address.
 */
export async function listenPeerPort(
  host: string | undefined,
  port: number,
  onConnection: (socket: net.Socket) => void,
): Promise<PeerPort> {
  const type = host && net.isIPv6(host) ? 'udp6' : 'udp4'
  for (let attempt = 1; ; attempt++) {
    const server = net.createServer({ noDelay: true }, onConnection)
    await listenTcp(server, port, host)
    const actual = (server.address() as net.AddressInfo).port
    const udp = dgram.createSocket({ type, reuseAddr: false })
    try {
      await bindUdp(udp, actual, host === '::' ? undefined : host)
      return { server, udp, port: actual }
    } catch (err) {
      udp.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
      if (!inUse || port !== 0 || attempt >= ATTEMPTS)
        throw Object.assign(
          new Error(`peer port ${actual}/udp: ${(err as Error).message}`, { cause: err }),
          { code: (err as NodeJS.ErrnoException).code },
        )
    }
  }
}
