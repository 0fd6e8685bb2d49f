// A `ws` server on loopback that echoes every message, for the tests and benches
// that put WebSockets through the proxy: it keeps each handshake's headers and
// its open sockets, and its stop cuts whatever is still connected.

import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'

export interface EchoServer {
  url: string
  port: number
  handshakes: IncomingHttpHeaders[]
  sockets: Set<WebSocket>
  stop(): Promise<void>
}

/** Starts the echo server on 127.0.0.1:`port` (0: a free one); a plain request gets a 426. */
export async function startEcho(port = 0): Promise<EchoServer> {
  const server = createServer((_req, res) => res.writeHead(426).end())
  const connections = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    connections.add(s)
    s.once('close', () => connections.delete(s))
  })
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024 })
  const handshakes: IncomingHttpHeaders[] = []
  const sockets = new Set<WebSocket>()
  wss.on('connection', (ws, req) => {
    handshakes.push(req.headers)
    sockets.add(ws)
    ws.once('close', () => sockets.delete(ws))
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const bound = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    handshakes,
    sockets,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of connections) s.destroy()
        wss.close()
        server.close(() => resolve())
      }),
  }
}
