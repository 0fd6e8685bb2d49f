// GET /metrics alone, on an address of its own (`metrics.listen`), for a
// central Prometheus: read-only and without a token, so it may listen beyond
// loopback while the admin API, which can change state, stays on it. Anything
// else is a 404 that says where the rest is. Bounded: few connections, short
// timeouts.

import { createServer, type Server } from 'node:http'
import type { RawHandle } from '../net/listen-sockets.ts'
import { listenOnHandle } from '../net/socket-source.ts'

export interface MetricsSource {
  contentType: string
  metrics(): Promise<string>
}

const MAX_CONNECTIONS = 64

export function metricsServer(source: MetricsSource): Server {
  const server = createServer(
    { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      const path = (req.url ?? '').split('?')[0]
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        res.end('only GET /metrics is served here; the admin API listens on admin.listen\n')
        return
      }
      source.metrics().then(
        (body) => {
          res.writeHead(200, {
            'content-type': source.contentType,
            'content-length': Buffer.byteLength(body),
          })
          res.end(req.method === 'HEAD' ? undefined : body)
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          res.end(`metrics not gathered: ${err.message}\n`)
        },
      )
    },
  )
  server.maxConnections = MAX_CONNECTIONS
  return server
}

/** Serves `source` on a socket bound elsewhere; resolves with what closes it (its connections first). */
export async function serveMetrics(
  source: MetricsSource,
  handle: RawHandle,
): Promise<() => Promise<void>> {
  const server = metricsServer(source)
  await listenOnHandle(server, handle)
  return () => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(() => resolve()))
  }
}
