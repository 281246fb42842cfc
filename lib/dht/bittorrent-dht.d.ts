// bittorrent-dht ships no types; this is the part of its surface lib/dht uses.
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events'
  interface DHTOptions {
    socket?: EventEmitter
    bootstrap?: string[] | false
    host?: string | false
    maxPeers?: number
    maxAge?: number
    maxTables?: number
    maxValues?: number
    timeBucketOutdated?: number
  }
  export default class DHT extends EventEmitter {
    constructor(opts?: DHTOptions)
    readonly nodeId: Buffer
    readonly listening: boolean
    toJSON(): { nodes: Array<{ host: string; port: number }> }
    announce(infoHash: Buffer, port: number, cb?: (err?: Error) => void): void
    lookup(infoHash: Buffer, cb?: (err?: Error | null, n?: number) => void): void
    addNode(node: { host: string; port: number }): void
    destroy(cb?: () => void): void
    /** Not public API: adds a peer to the store get_peers answers from (see node.ts). */
    _addPeer(
      peer: { host: string; port: number },
      infoHash: Buffer,
      from: { host: string; port: number },
    ): void
  }
}
