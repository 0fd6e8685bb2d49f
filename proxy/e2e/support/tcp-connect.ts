// What a client sees when it opens a TCP connection: a listener takes it, or
// the kernel refuses it (nothing listens on the port).

import { connect } from 'node:net'

/** 'connected', 'timeout', or the error's code ('ECONNREFUSED'). */
export function tcpConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 5_000 })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve('timeout')
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}
