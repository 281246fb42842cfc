import type { Socket } from 'node:dgram'

/**
 * A bound dgram socket's packets answered on its libuv handle, as node:dgram itself drives it,
 * without dgram's per-packet layers: the 'message' event, and for each reply send()'s argument
 * checks, its address lookup, a closure, an async-id scope and a new `SendWrap` given three
 * properties. Those cost ~1.8 µs of CPU per announce where a constant-reply server spends ~10 µs
 * of user time in all (a dgram server against one on its handle, same load, interleaved:
 * 10.2-10.4 against 8.4-9.4 µs per request). A tracker answers one packet with one packet, so
 * this is its whole UDP path.
 *
 * Like raw-handle.ts this leans on node's internals: the socket's state symbol, its handle's
 * `onmessage` and `send`, and the `udp_wrap` binding's `SendWrap` (on `process.binding`'s
 * allow-list; DEP0111 is documentation-only). Where they are missing {@link answerOnHandle}
 * returns false and changes nothing; udp-handle.test.ts fails on a node that drops them.
 */
interface UdpHandle {
  /** Called by node for each datagram read (node's `UDPWrap::OnRecv`), or a read error. */
  onmessage: (
    nread: number,
    handle: UdpHandle,
    packet: Buffer | undefined,
    remote: { address: string; port: number },
  ) => void
  /**
   * Sends `list` to `address:port` (an IP literal). Returns the bytes sent + 1 when the kernel
   * took the datagram at once, 0 when it is queued (`request` is then node's until it is done),
   * or a negative error code.
   */
  send(
    request: object,
    list: Uint8Array[],
    count: number,
    port: number,
    address: string,
    hasCallback: boolean,
  ): number
}

const SendWrap = ((): (new () => { list?: Uint8Array[] }) | undefined => {
  try {
    const binding = (
      process as unknown as { binding(name: string): { SendWrap?: new () => object } }
    ).binding('udp_wrap')
    return typeof binding.SendWrap === 'function' ? binding.SendWrap : undefined
  } catch {
    return undefined
  }
})()

function handleOf(socket: Socket): Partial<UdpHandle> | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol')
  if (state === undefined) return undefined
  return (socket as unknown as Record<symbol, { handle?: Partial<UdpHandle> } | undefined>)[state]
    ?.handle
}

/**
 * Answers every datagram `socket` (bound, listening) receives with `answer`'s packet, if any,
 * sent back to where it came from; read errors go to the socket's 'error' listeners, as dgram
 * sends them. Returns false, changing nothing, where this node lacks the internals: the caller
 * then listens for 'message' as usual.
 */
export function answerOnHandle(
  socket: Socket,
  answer: (packet: Buffer, address: string, port: number) => Uint8Array | null,
): boolean {
  const handle = handleOf(socket)
  if (SendWrap === undefined || typeof handle?.send !== 'function' || !('onmessage' in handle))
    return false
  const raw = handle as UdpHandle
  const Request = SendWrap
  // A request the kernel took at once is never wrapped by node, so it is used again; one left
  // queued (the socket buffer was full) is node's until sent, with its list keeping the reply
  // alive, and a new one takes its place.
  let request = new Request()
  let list: Uint8Array[] = []
  raw.onmessage = (nread, _handle, packet, remote) => {
    if (nread < 0 || packet === undefined) {
      const error = Object.assign(new Error(`recvmsg failed (${nread})`), { errno: nread })
      socket.emit('error', error)
      return
    }
    const reply = answer(packet, remote.address, remote.port)
    if (reply === null) return
    list[0] = reply
    request.list = list
    // A failed send (the peer's address unreachable) is dropped, as dgram drops one without a
    // callback: UDP promises nothing, and the client asks again.
    const sent = raw.send(request, list, 1, remote.port, remote.address, false)
    if (sent === 0) {
      request = new Request()
      list = []
    }
  }
  return true
}
