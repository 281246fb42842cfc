/** uTP (BEP 29): accepts connections on a UDP socket someone else owns, as Node streams. */
export { UtpServer, type UtpServerOptions } from './server.ts'
export { UtpStream, PACKET_SIZE } from './stream.ts'
export {
  encodePacket,
  looksLikeUtp,
  parsePacket,
  UtpPacketError,
  type Packet,
  type PacketType,
} from './packet.ts'
