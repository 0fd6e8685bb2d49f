// The quickstart's HTTP stand-ins: a demo legacy proxy (answers everything, and
// says so) and a demo origin for the site on the new path. Tests use nginx.

import { createServer, type Server } from 'node:http'

export interface DemoServer {
  port: number
  stop(): Promise<void>
}

async function serve(server: Server, host: string, port: number): Promise<DemoServer> {
  await new Promise<void>((resolve) => server.listen(port, host, resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : port,
    stop: () => {
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
  )
}
