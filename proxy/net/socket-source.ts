// Where a listener's socket comes from. A listener never binds one itself: it
// asks its process's source for the socket of its role and address, which the
// process that owns the sockets (listen-sockets.ts) binds once and keeps. In
// one process that is the process itself; in a worker, the supervisor, which
// either gives the socket to listen on or deals out the connections it accepts.

import type { Socket as UdpSocket } from 'node:dgram'
import type { Server } from 'node:net'
import type { HostPort } from '../config/units.ts'
import type { ListenRole, ListenSockets, RawHandle } from './listen-sockets.ts'

export interface SocketSource {
  /** Serves `server` on the TCP socket of `role` at `at`; resolves with the port it serves on. */
  listen(server: Server, role: ListenRole, at: HostPort): Promise<number>
  /** Reads datagrams on `socket` from the UDP socket of `role` at `at`; resolves with its port. */
  bind(socket: UdpSocket, role: ListenRole, at: HostPort): Promise<number>
}

/** `server` listens on a socket bound elsewhere (Node's listen takes a handle). */
export function listenOnHandle(server: Server, handle: RawHandle): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(handle as never, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** `socket` reads from a UDP socket bound elsewhere (dgram's bind takes a handle, as child_process uses it). */
export function bindToHandle(socket: UdpSocket, handle: RawHandle): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(handle as never, () => {
      socket.off('error', reject)
      resolve()
    })
  })
}

/** The sockets of the process that serves them itself (`workers: 0`). */
export function localSource(sockets: ListenSockets): SocketSource {
  return {
    async listen(server, role, at) {
      const s = sockets.open('tcp', role, at)
      await listenOnHandle(server, s.handle)
      return s.port
    },
    async bind(socket, role, at) {
      const s = sockets.open('udp', role, at)
      await bindToHandle(socket, s.handle)
      return s.port
    },
  }
}
