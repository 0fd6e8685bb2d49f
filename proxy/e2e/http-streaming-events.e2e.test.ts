// End to end: streams pass through as they happen, on both paths, over HTTP/1.1
// and HTTPS HTTP/2. The upstream writes a server-sent event and waits until the
// client has seen it before writing the next; a long poll's answer comes when the
// upstream has it; a request body reaches the upstream piece by piece while the
// client is still sending. Nothing sleeps: each side waits on a promise the other
// resolves, so a proxy that buffers makes the test time out, not pass.
// (http-streaming.e2e.test.ts covers large bodies and memory; this covers timing.)

import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { type ClientHttp2Session, connect as http2Connect } from 'node:http2'
import type { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTestCa, type TestCa } from './support/certs.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { type Handler, startUpstream, type TestUpstream, within } from './support/upstream.ts'

const SITE = 'www.events.test'
const LEGACY_HOST = 'old.events.test'
const PATHS = [
  { path: 'new', host: SITE },
  { path: 'legacy', host: LEGACY_HOST },
] as const
const STEPS = 3
/** How long either side waits for the other's step: a buffered stream never gets there. */
const STEP_MS = 5000

/** One promise per step: one side waits on step i, the other says it happened. */
function gates(n: number): {
  happened(i: number): void
  wait(i: number, what: string): Promise<void>
} {
  const resolvers: (() => void)[] = []
  const promises = Array.from(
    { length: n },
    (_, i) =>
      new Promise<void>((resolve) => {
        resolvers[i] = resolve
      }),
  )
  return {
    happened: (i) => resolvers[i](),
    wait: (i, what) => within(promises[i], STEP_MS, `${what} ${i}`),
  }
}

/** A test run's gates, by the X-Run field of its request. */
interface Run {
  /** The client has seen event i (or the upstream's answer, for a long poll). */
  seen: ReturnType<typeof gates>
  /** The upstream has received piece i of the request (or the request, for a long poll). */
  arrived: ReturnType<typeof gates>
}
const runs = new Map<string, Run>()
let nextRun = 0

function newRun(): [string, Run] {
  const id = String(nextRun++)
  const run = { seen: gates(STEPS), arrived: gates(STEPS) }
  runs.set(id, run)
  return [id, run]
}

/** /events: SSE, one event per step; /poll: the answer once the test releases it; POST: pieces. */
const streamer: Handler = (req, res) => {
  const run = runs.get(String(req.headers['x-run']))!
  const serve = async () => {
    if (req.method === 'POST') {
      let got = ''
      let pieces = 0
      req.setEncoding('utf8')
      for await (const data of req) {
        got += data
        for (; pieces < got.split(';').length - 1; pieces++) run.arrived.happened(pieces)
      }
      res.end(got)
      return
    }
    req.resume()
    if (req.url === '/poll') {
      run.arrived.happened(0)
      await run.seen.wait(0, 'the test releasing the poll')
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"event":"late"}')
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    for (let i = 0; i < STEPS; i++) {
      res.write(`data: event ${i}\n\n`)
      await run.seen.wait(i, 'the client seeing event')
    }
    res.end()
  }
  serve().catch(() => res.destroy())
}

/** A request on its way: its body can be written in pieces; the response comes with its body as a stream. */
interface Exchange {
  write(piece: string): void
  end(): void
  response: Promise<{ status: number; body: Readable }>
}

type Open = (host: string, method: string, path: string, run: string) => Exchange

let ca: TestCa
let origin: TestUpstream
let legacy: TestUpstream
let proxy: TestProxy
let session: ClientHttp2Session | undefined

beforeAll(async () => {
  ca = makeTestCa()
  origin = await startUpstream(streamer)
  legacy = await startUpstream(streamer)
  proxy = await startTestProxy({
    tls: { certificates: [ca.issue('events', [SITE, LEGACY_HOST])] },
    http: {
      listen: '127.0.0.1:0',
      tls: { listen: '127.0.0.1:0' },
      legacy: { url: legacy.url },
      doh: false,
      sites: [
        {
          host: SITE,
          origin: origin.url,
          percent: 100,
          // Modules on the way: a response rule runs on every response head.
          rules: [{ type: 'headers', response: { set: { 'X-Served-By': 'cutover' } } }],
        },
      ],
    },
  })
}, 30_000)

afterAll(async () => {
  session?.destroy()
  await proxy?.stop()
  await origin?.stop()
  await legacy?.stop()
  ca?.remove()
})

/** HTTP/1.1 in clear text, a connection per request. */
const overHttp1: Open = (host, method, path, run) => {
  const req = httpRequest({
    host: '127.0.0.1',
    port: proxy.httpPort,
    method,
    path,
    agent: false,
    headers: { host, 'x-run': run },
  })
  return {
    write: (piece) => req.write(piece),
    end: () => req.end(),
    response: (once(req, 'response') as Promise<[IncomingMessage]>).then(([res]) => ({
      status: res.statusCode ?? 0,
      body: res,
    })),
  }
}

/** HTTPS HTTP/2, streams on one session. */
const overHttp2: Open = (host, method, path, run) => {
  session ??= http2Connect(`https://127.0.0.1:${proxy.httpsPort}`, {
    ca: readFileSync(ca.caCert, 'utf8'),
    servername: SITE,
  })
  const stream = session.request({
    ':method': method,
    ':path': path,
    ':authority': host,
    'x-run': run,
  })
  return {
    write: (piece) => stream.write(piece),
    end: () => stream.end(),
    response: new Promise((resolve, reject) => {
      stream.once('response', (headers) =>
        resolve({ status: Number(headers[':status']), body: stream }),
      )
      stream.once('error', reject)
    }),
  }
}

describe.each([
  { version: 'HTTP/1.1', open: overHttp1 },
  { version: 'HTTPS HTTP/2', open: overHttp2 },
])('over $version', ({ open }) => {
  describe.each(PATHS)('$path path', ({ host }) => {
    it('each server-sent event reaches the client before the upstream writes the next', async () => {
      const [id, run] = newRun()
      const exchange = open(host, 'GET', '/events', id)
      exchange.end()
      const { status, body } = await within(exchange.response, STEP_MS, 'the response head')
      expect(status).toBe(200)
      let text = ''
      let seen = 0
      body.setEncoding('utf8')
      for await (const data of body) {
        text += data
        for (; seen < STEPS && text.includes(`data: event ${seen}\n\n`); seen++)
          run.seen.happened(seen)
      }
      expect(seen).toBe(STEPS)
      expect(text).toBe('data: event 0\n\ndata: event 1\n\ndata: event 2\n\n')
    })

    it("a long poll's answer comes through when the upstream has it", async () => {
      const [id, run] = newRun()
      const exchange = open(host, 'GET', '/poll', id)
      exchange.end()
      await run.arrived.wait(0, 'the poll reaching the upstream')
      run.seen.happened(0)
      const { status, body } = await within(exchange.response, STEP_MS, 'the answer')
      let text = ''
      for await (const data of body) text += data
      expect([status, text]).toEqual([200, '{"event":"late"}'])
    })

    it('a request body reaches the upstream piece by piece while the client sends it', async () => {
      const [id, run] = newRun()
      const exchange = open(host, 'POST', '/upload', id)
      for (let i = 0; i < STEPS; i++) {
        exchange.write(`piece ${i};`)
        await run.arrived.wait(i, 'the upstream receiving piece')
      }
      exchange.end()
      const { status, body } = await within(exchange.response, STEP_MS, 'the answer')
      let text = ''
      for await (const data of body) text += data
      expect([status, text]).toEqual([200, 'piece 0;piece 1;piece 2;'])
    })
  })
})
