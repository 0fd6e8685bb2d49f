// The admin API on loopback: metrics for Prometheus, liveness and readiness.
// Anything that changes state needs the admin token (see admin-token.ts).

import fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'

export interface AdminDeps {
  registry: Registry
  /** Why the proxy is not ready (empty when it is): draining, legacy unreachable... */
  notReady(): string[]
}

export function createAdmin(deps: AdminDeps): FastifyInstance {
  const app = fastify({ logger: false, bodyLimit: 1024 * 1024, connectionTimeout: 10_000 })
  app.get('/metrics', async (_req, reply) => {
    reply.type(deps.registry.contentType)
    return deps.registry.metrics()
  })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const reasons = deps.notReady()
    reply.code(reasons.length === 0 ? 200 : 503)
    return { ready: reasons.length === 0, reasons }
  })
  return app
}
