// fastify answering every request with a fixed body: what fastify costs over node:http.
// usage: node fastify-hello.ts PORT

import fastify from 'fastify'

const app = fastify({ logger: false })
app.get('/*', async (_req, reply) => {
  reply.type('text/plain')
  return 'hello\n'
})
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' })
console.log('ready')
process.on('SIGTERM', () => process.exit(0))
