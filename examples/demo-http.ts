// The quickstart's HTTP stand-ins: a demo legacy proxy (answers everything, and
// says so) and a demo origin for the site on the new path. Both echo WebSocket
// messages at /ws, saying who answered. Tests use nginx.

import { createServer, type Server } from 'node:http'
import { WebSocketServer } from 'ws'

export interface DemoServer {
  port: number
  stop(): Promise<void>
}

/** Listens, and echoes WebSocket messages at /ws prefixed with `who`; other upgrades get a 404. */
async function serve(server: Server, host: string, port: number, who: string): Promise<DemoServer> {
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://demo').pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) =>
      ws.on('message', (data) => ws.send(`${who}: ${data}`)),
    )
  })
  await new Promise<void>((resolve) => server.listen(port, host, resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : port,
    stop: () => {
      // An upgraded socket is no longer the HTTP server's to close, and would hold its close.
      for (const ws of wss.clients) ws.terminate()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** The legacy: still implements every site and rule; here it just says it served the request. */
export function startDemoLegacyHttp(host: string, port: number): Promise<DemoServer> {
  return serve(
    createServer((req, res) => {
      req.resume()
      const body = `served by the legacy (demo): ${req.method} ${req.headers.host}${req.url}\n`
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'x-served-by': 'demo-legacy',
      })
      res.end(body)
    }),
    host,
    port,
    'echoed by the legacy (demo)',
  )
}

/** The origin behind the new path's site. */
export function startDemoOrigin(host: string, port: number): Promise<DemoServer> {
  return serve(
    createServer((req, res) => {
      req.resume()
      const body = `hello from the origin: ${req.method} ${req.url} (x-cutover: ${req.headers['x-cutover'] ?? '-'})\n`
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'max-age=60',
      })
      res.end(body)
    }),
    host,
    port,
    'echoed by the origin',
  )
}
