// A worker's sockets come from its supervisor: it asks for the socket of each
// listener's role and address and gets either the socket itself, to listen on
// beside the other workers (`workerAccept: shared`, and UDP always), or word
// that the supervisor accepts on it and deals the connections out one by one
// (`roundRobin`), which then reach the listener's server here.

import type { Server, Socket } from 'node:net'
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

export interface WorkerSockets extends SocketSource {
  /** Hand it every 'listening' message, with the socket it carried. */
  answered(m: ListenAnswer, handle: unknown): void
  /** Hand it every 'dealt' message, with its connection. */
  dealt(m: DealtConnection, socket: Socket | undefined): void
}

export function workerSockets(send: (m: ListenAsk) => void): WorkerSockets {
  const pending = new Map<
    number,
    { resolve(a: { port: number; handle?: RawHandle }): void; reject(err: Error): void }
  >()
  /** The servers that take dealt connections, by role, with how many they hold. */
  const dealtTo = new Map<ListenRole, { server: Server; open: number }>()
  let nextId = 0
  const ask = (kind: SocketKind, role: ListenRole, at: HostPort) =>
    new Promise<{ port: number; handle?: RawHandle }>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      send({ type: 'listen', id, kind, role, at })
    })
  return {
    async listen(server, role, at) {
      const { port, handle } = await ask('tcp', role, at)
      if (handle) await listenOnHandle(server, handle)
      else dealtTo.set(role, { server, open: 0 })
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
      if (!socket) return
      const to = dealtTo.get(m.role)
      // Node counts maxConnections only for connections it accepted itself.
      if (!to || to.open >= (to.server.maxConnections || Number.POSITIVE_INFINITY)) {
        socket.destroy()
        return
      }
      to.open++
      socket.once('close', () => to.open--)
      to.server.emit('connection', socket)
    },
  }
}
