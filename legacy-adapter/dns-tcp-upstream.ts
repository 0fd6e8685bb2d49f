// One reused TCP connection to a legacy DNS server (RFC 7766): queries are
// written length-prefixed and pipelined, replies matched by ID in any order.
// Closed after an idle period; opened again on demand.

import { connect, type Socket } from 'node:net'

export interface TcpReplyHandler {
  /** A reply for the query sent with `id`, or undefined when the connection failed. */
  onTcpReply(id: number, reply: Buffer | undefined): void
}

export class TcpUpstream {
  readonly #host: string
  readonly #port: number
  readonly #idleMs: number
  readonly #handler: TcpReplyHandler
  #socket: Socket | undefined
  #inFlight = new Set<number>()
  #pending: Buffer = Buffer.alloc(0)

  constructor(host: string, port: number, idleMs: number, handler: TcpReplyHandler) {
    this.#host = host
    this.#port = port
    this.#idleMs = idleMs
    this.#handler = handler
  }

  /** Sends `query` (its ID already set to `id`); the reply arrives through the handler. */
  send(id: number, query: Buffer): void {
    const socket = this.#socket ?? this.#open()
    this.#inFlight.add(id)
    const frame = Buffer.allocUnsafe(query.length + 2)
    frame.writeUInt16BE(query.length, 0)
    query.copy(frame, 2)
    socket.write(frame)
  }

  /** Forgets `id` (its query was answered or given up elsewhere). */
  forget(id: number): void {
    this.#inFlight.delete(id)
  }

  close(): void {
    this.#socket?.destroy()
  }

  #open(): Socket {
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true })
    this.#socket = socket
    this.#pending = Buffer.alloc(0)
    // A listener of its own, not setTimeout's callback (that one is called once).
    socket.setTimeout(this.#idleMs)
    socket.on('timeout', () => {
      if (this.#inFlight.size === 0) socket.end()
      else socket.setTimeout(this.#idleMs)
    })

    socket.on('data', (chunk) => this.#read(chunk))
    const fail = () => {
      if (this.#socket !== socket) return
      this.#socket = undefined
      const ids = [...this.#inFlight]
      this.#inFlight.clear()
      for (const id of ids) this.#handler.onTcpReply(id, undefined)
    }
    socket.on('error', fail)
    socket.on('close', fail)
    return socket
  }

  #read(chunk: Buffer): void {
    let buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0)
      if (buf.length < 2 + len) break
      const reply = buf.subarray(2, 2 + len)
      buf = buf.subarray(2 + len)
      if (len < 12) continue
      const id = reply.readUInt16BE(0)
      if (!this.#inFlight.delete(id)) continue
      this.#handler.onTcpReply(id, reply)
    }
    this.#pending = buf
  }
}
