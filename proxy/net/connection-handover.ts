// Connections handed from a draining worker to one of the generation that
// replaced it, as file descriptors over the supervisor's IPC channel: a
// restart then closes no DNS-over-TCP connection a client is still using, so
// no query can cross the server's FIN (RFC 7766 section 6.2.4 leaves such a
// query to the client to ask again; many do not). A connection goes only
// between queries, its replies written out, with the bytes of a query it
// has begun to read.

import type { Socket } from 'node:net'

/** The listeners whose connections can be handed over: plain DNS over TCP, and its candidate twin. */
export type HandedListener = 'dns' | 'candidate'

/** What travels with the socket: where it goes, whom it speaks for, what was read of it already. */
export interface HandedConnection {
  type: 'connection'
  listener: HandedListener
  client: string
  /** Bytes read off the socket and not yet used, base64. */
  data: string
}

/** Hands one idle connection on; the socket is no longer the caller's. */
export type HandOver = (socket: Socket, client: string, data: Buffer) => void

/** Calls `then` once everything written to `socket` has reached the kernel: a handed-over descriptor carries no queue. */
export function whenWritten(socket: Socket, then: () => void): void {
  if (socket.writableLength === 0) then()
  else socket.write(Buffer.alloc(0), () => then())
}

/**
 * Stops `socket` delivering data and takes what its stream has read from the
 * kernel and not yet delivered; what it has not read stays in the kernel,
 * with the descriptor.
 */
export function takeUnread(socket: Socket): Buffer[] {
  // read() also emits 'data': whoever listened must not see these bytes too.
  socket.removeAllListeners('data')
  const chunks: Buffer[] = []
  for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read())
    chunks.push(chunk)
  // read() starts libuv reading again when the buffer is empty.
  stopReading(socket)
  return chunks
}

/**
 * Stops `socket` reading from the kernel: what comes stays there, for whoever
 * holds the descriptor next. pause() alone leaves libuv reading until the
 * stream's buffer fills, and Node's handle passing drops whatever it reads
 * before the descriptor is gone; so the handle is told too (an internal of
 * net.Socket, there since Node 0.x).
 */
export function stopReading(socket: Socket): void {
  socket.pause()
  ;(socket as unknown as { _handle?: { readStop?(): number } })._handle?.readStop?.()
}
