/**
 * The one HTTP port in front of hono: announce, scrape and `.torrent` files answered off the
 * socket, exact paths and prefixes (the web seed) straight from node:http, everything else to
 * hono; the connection cap, and the pacing of public pages per address.
 */
export {
  createHttpServer,
  type FastRoute,
  type HttpFront,
  type PlainAnswer,
  type PlainPrefixRoute,
  type PlainRoute,
} from './server.ts'
export { PagePace } from './page-pace.ts'
