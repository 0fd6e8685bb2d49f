// A worker's sockets come from its supervisor: it asks for the socket of each
// listener's role and address and gets either the socket itself, to listen on
// beside the other workers (`workerAccept: shared`, and UDP always), or word
// that the supervisor accepts on it and deals the connections out one by one
// (`roundRobin`), which then reach the listener's server here. With
// `reusePort` the socket it gets is its worker slot's own. A socket no live
// worker serves is lent to it for a while: it serves that one beside its own.

import { createServer, type Server, type Socket } from 'node:net'
import type { HostPort } from '../config/units.ts'
import type { ListenRole, RawHandle, SocketKind } from '../net/listen-sockets.ts'
import { bindToHandle, listenOnHandle, type SocketSource } from '../net/socket-source.ts'

/** A worker asks for a listening socket. */
export interface ListenAsk {
  type: 'listen'
  id: number
  kind: SocketKind
  role: ListenRole
  at: HostPort
}

/** The supervisor's answer: the socket comes with it, unless the supervisor deals its connections. */
export type ListenAnswer =
  | { type: 'listening'; id: number; port: number; dealt: boolean }
  | { type: 'listening'; id: number; error: string }

/** A connection the supervisor accepted on the TCP socket of `role`; it comes with the message. */
export interface DealtConnection {
  type: 'dealt'
  role: ListenRole
}

/** A TCP socket no live worker serves, lent to this one until its own worker is back (it comes with the message). */
export interface LentSocket {
  type: 'lend'
  role: ListenRole
  slot: number
}

/** The lent socket of `role` and `slot` is served by its own worker again. */
export interface TakenBack {
  type: 'take-back'
  role: ListenRole
  slot: number
}

export interface WorkerSockets extends SocketSource {
  /** Hand it every 'listening' message, with the socket it carried. */
  answered(m: ListenAnswer, handle: unknown): void
  /** Hand it every 'dealt' message, with its connection. */
  dealt(m: DealtConnection, socket: Socket | undefined): void
  /** Hand it every 'lend' message, with the socket it carried. */
  lend(m: LentSocket, handle: unknown): void
  takeBack(m: TakenBack): void
  /** Stops serving every lent socket (a drain): the supervisor lends them to another. */
  returnAll(): void
}

export function workerSockets(send: (m: ListenAsk) => void): WorkerSockets {
  const pending = new Map<
    number,
    { resolve(a: { port: number; handle?: RawHandle }): void; reject(err: Error): void }
  >()
  /** The listeners' servers by role, with how many connections from elsewhere (dealt, lent) they hold. */
  const servers = new Map<ListenRole, { server: Server; open: number }>()
  /** What serves each lent socket, by role and slot. */
  const lent = new Map<string, Server>()
  let returned = false
  let nextId = 0
  const intake = (role: ListenRole, socket: Socket) => {
    const to = servers.get(role)
    // Node counts maxConnections only for connections a server accepted itself.
    if (!to || to.open >= (to.server.maxConnections || Number.POSITIVE_INFINITY)) {
      socket.destroy()
      return
    }
    to.open++
    socket.once('close', () => to.open--)
    to.server.emit('connection', socket)
  }
  const ask = (kind: SocketKind, role: ListenRole, at: HostPort) =>
    new Promise<{ port: number; handle?: RawHandle }>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      send({ type: 'listen', id, kind, role, at })
    })
  return {
    async listen(server, role, at) {
      const { port, handle } = await ask('tcp', role, at)
      servers.set(role, { server, open: 0 })
      if (handle) await listenOnHandle(server, handle)
      return port
    },
    async bind(socket, role, at) {
      const { port, handle } = await ask('udp', role, at)
      if (!handle) throw new Error(`the supervisor gave no UDP socket for ${role}`)
      await bindToHandle(socket, handle)
      return port
    },
    answered(m, handle) {
      const p = pending.get(m.id)
      if (!p) return
      pending.delete(m.id)
      if ('error' in m) p.reject(new Error(m.error))
      else p.resolve({ port: m.port, handle: m.dealt ? undefined : (handle as RawHandle) })
    },
    dealt(m, socket) {
      if (socket) intake(m.role, socket)
    },
    lend(m, handle) {
      const key = `${m.role} ${m.slot}`
      if (!handle) return
      // Its descriptor here is a copy: closing it leaves the supervisor's open.
      if (returned || lent.has(key)) {
        ;(handle as RawHandle).close()
        return
      }
      const server = createServer({ noDelay: true }, (socket) => intake(m.role, socket))
      // An accept that failed (out of descriptors) leaves the connection queued for the next one.
      server.on('error', () => {})
      server.listen(handle as never)
      lent.set(key, server)
    },
    takeBack(m) {
      const key = `${m.role} ${m.slot}`
      lent.get(key)?.close()
      lent.delete(key)
    },
    returnAll() {
      returned = true
      for (const server of lent.values()) server.close()
      lent.clear()
    },
  }
}
