/** The appliance as a BEP 5 DHT node on the peer port's UDP socket. */
export { DhtNode, type DhtNodeOptions } from './node.ts'
