// Small node:http servers standing in for an origin or a legacy proxy whose
// behaviour a test controls (echoing, hashing, slow, silent), on loopback; and
// a bound on how long a test waits for anything.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

export interface TestUpstream {
  port: number
  url: string
  /** What the server does with each request; tests swap it. */
  handler: Handler
  /** Requests received since start. */
  requests: number
  stop(): Promise<void>
}

/** Answers 500: for the upstream a test does not expect to be asked. */
export const unexpected: Handler = (req, res) => {
  req.resume()
  res.writeHead(500, { 'content-type': 'text/plain' })
  res.end('this upstream was not expected to be asked\n')
}

/** Starts a server on a free loopback port; `stop` cuts every open connection. */
export async function startUpstream(handler: Handler = unexpected): Promise<TestUpstream> {
  const sockets = new Set<Socket>()
  const upstream: TestUpstream = {
    port: 0,
    url: '',
    handler,
    requests: 0,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
  const server = createServer((req, res) => {
    upstream.requests++
    upstream.handler(req, res)
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  upstream.port = (server.address() as { port: number }).port
  upstream.url = `http://127.0.0.1:${upstream.port}`
  return upstream
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
  })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}
