// @fastify/http-proxy to an upstream: the proxy a fastify user would reach for.
// usage: node fastify-proxy.ts PORT UPSTREAM_URL

import proxy from '@fastify/http-proxy'
import fastify from 'fastify'

const app = fastify({ logger: false })
await app.register(proxy, { upstream: process.argv[3] })
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' })
console.log('ready')
process.on('SIGTERM', () => process.exit(0))
