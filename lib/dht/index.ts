/** The appliance as a BEP 5 DHT node on the peer port's UDP socket. */
export { DhtNode, DEFAULT_BOOTSTRAP, type DhtNodeOptions } from './node.ts'
