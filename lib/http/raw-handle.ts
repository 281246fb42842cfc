import type { Server } from 'node:net'

/**
 * A TCP connection as libuv hands it to node:net, before node:net builds a `net.Socket` (a Duplex
 * stream: its state objects, buffers, listeners and timers) around it. Accepting through
 * node:net costs ~45 µs of CPU per connection on this machine where opentracker spends ~40 µs on
 * the whole request (bench/tracker.ts: the node:net ceiling against opentracker, connection per
 * request), and nearly every announce a tracker gets comes on a connection of its own: clients
 * announce minutes apart, far beyond any keep-alive. So the first request of a connection is
 * read and answered on the handle itself (plain-http.ts), and a `net.Socket` is built only for a
 * connection that goes on.
 *
 * This leans on node's internals (the `stream_wrap` binding, a listener's `_handle`), the way
 * node:net itself drives them. `process.binding` is deprecated in the documentation only (DEP0111:
 * it warns under `--pending-deprecation`, and `stream_wrap` is on its allow-list); where the
 * internals are missing {@link takeConnections} says so and every connection goes through
 * node:net as before. raw-handle.test.ts fails on a node that drops them.
 */
export interface RawConnection {
  readStart(): number
  readStop(): number
  close(): void
  getpeername(out: { address?: string }): number
  writeBuffer(request: WriteRequest, data: Uint8Array): number
  /** Called by libuv with each read; the count and offset are in the binding's shared state. */
  onread: ((this: RawConnection, buffer: ArrayBuffer) => void) | null
  /** Bytes written and not yet taken by the kernel (node keeps it current). */
  readonly writeQueueSize: number
  /** The peer's address once asked for (ours: a kept connection asks for it once). */
  peer?: string
}

interface WriteRequest {
  handle: RawConnection
  async: boolean
  oncomplete: (this: WriteRequest, status: number) => void
  then: ((handle: RawConnection) => void) | undefined
}

interface StreamBinding {
  WriteWrap: new () => WriteRequest
  streamBaseState: Int32Array
  kReadBytesOrError: number
  kArrayBufferOffset: number
  kLastWriteWasAsync: number
}

interface ListenHandle {
  onconnection: (this: ListenHandle, status: number, connection: RawConnection) => void
}

const binding = ((): StreamBinding | undefined => {
  try {
    const found = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding(
      'stream_wrap',
    )
    return typeof found.WriteWrap === 'function' && found.streamBaseState instanceof Int32Array
      ? (found as StreamBinding)
      : undefined
  } catch {
    return undefined
  }
})()

/**
 * What a read delivered: the bytes, `'end'` (the peer closed or the read failed: close the
 * handle), or null for nothing (a spurious wake-up).
 */
export function readChunk(buffer: ArrayBuffer): Buffer | 'end' | null {
  const state = (binding as StreamBinding).streamBaseState
  const count = state[(binding as StreamBinding).kReadBytesOrError]
  if (count > 0)
    return Buffer.from(buffer, state[(binding as StreamBinding).kArrayBufferOffset], count)
  return count === 0 ? null : 'end'
}

function onWritten(this: WriteRequest, status: number): void {
  if (status < 0) this.handle.close()
  else this.then?.(this.handle)
}

/**
 * Writes `data` to the connection; `then` runs once it is all handed to the kernel (at once
 * when it fits the socket buffer, as an announce reply does). A failed write closes the handle.
 */
export function send(
  handle: RawConnection,
  data: Uint8Array,
  then?: (handle: RawConnection) => void,
): void {
  const { WriteWrap, streamBaseState, kLastWriteWasAsync } = binding as StreamBinding
  const request = new WriteWrap()
  request.handle = handle
  request.oncomplete = onWritten
  request.async = false
  request.then = undefined
  if (handle.writeBuffer(request, data) !== 0) return handle.close()
  if (streamBaseState[kLastWriteWasAsync]) request.then = then
  else then?.(handle)
}

const peer: { address?: string } = {}

export function peerAddress(handle: RawConnection): string {
  if (handle.peer === undefined) {
    peer.address = undefined
    handle.getpeername(peer)
    handle.peer = peer.address ?? ''
  }
  return handle.peer
}

/** Connections the listener has open: those it built sockets for (node:net counts them itself). */
export function socketCount(server: Server): number {
  return (server as unknown as { _connections: number })._connections
}

/**
 * Takes each connection `server` accepts before node:net sees it: `onConnection` gets the handle,
 * and the returned `handOver` gives one to node:net as if just accepted (a `net.Socket`, counted,
 * capped and announced with 'connection' as usual). Call once the server is listening. Returns
 * undefined, changing nothing, where this node lacks the internals.
 */
export function takeConnections(
  server: Server,
  onConnection: (handle: RawConnection) => void,
): ((handle: RawConnection) => void) | undefined {
  const listener = (server as unknown as { _handle?: Partial<ListenHandle> })._handle
  if (binding === undefined || typeof listener?.onconnection !== 'function') return undefined
  const listen = listener as ListenHandle
  const nodeNet = listen.onconnection
  listen.onconnection = function (status, handle) {
    if (status !== 0) return nodeNet.call(this, status, handle)
    onConnection(handle)
  }
  return (handle) => {
    handle.readStop()
    nodeNet.call(listen, 0, handle)
  }
}
