// The HTTP/2 request and response over Node's stream API, on a real node:http2
// server and client on loopback: what the engine writes is what the client gets.

import {
  type ClientHttp2Session,
  constants,
  createServer,
  type Http2Server,
  connect as http2Connect,
  type IncomingHttpHeaders,
} from 'node:http2'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { within } from '../e2e/support/upstream.ts'
import { Http2Reply, Http2Request } from './http2-stream.ts'

let server: Http2Server | undefined
let client: ClientHttp2Session | undefined

afterEach(async () => {
  client?.close()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = client = undefined
})

/** A server whose every stream goes to `serve` as a request and a response. */
async function serving(serve: (req: Http2Request, res: Http2Reply) => void): Promise<void> {
  server = createServer()
  server.on('stream', (stream, headers, _flags, raw) => {
    stream.on('error', () => {})
    serve(new Http2Request(stream, headers, raw), new Http2Reply(stream))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  client = http2Connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
}

interface Answer {
  head: IncomingHttpHeaders
  raw: string[]
  body: string
  rstCode: number | undefined
}

/** One request: its response head, body and, for a reset stream, its code. */
function ask(headers: Record<string, string>, body?: string): Promise<Answer> {
  const stream = client!.request(headers, { endStream: body === undefined })
  if (body !== undefined) stream.end(body)
  let head: IncomingHttpHeaders = {}
  let raw: string[] = []
  const chunks: Buffer[] = []
  stream.on('response', (h, _flags, r) => {
    head = h
    raw = r
  })
  stream.on('data', (c: Buffer) => chunks.push(c))
  stream.on('error', () => {})
  return within(
    new Promise<Answer>((resolve) =>
      stream.once('close', () =>
        resolve({ head, raw, body: Buffer.concat(chunks).toString(), rstCode: stream.rstCode }),
      ),
    ),
    5000,
    'the response',
  )
}

describe('Http2Request', () => {
  it('names the method, target and fields as received, and is HTTP/2.0', async () => {
    let seen: Http2Request | undefined
    await serving((req, res) => {
      seen = req
      res.writeHead(204, [])
      res.end()
    })
    await ask({ ':method': 'GET', ':path': '/a?b=1', 'X-Mixed': 'v' })
    expect(seen).toMatchObject({
      method: 'GET',
      url: '/a?b=1',
      httpVersionMajor: 2,
      httpVersionMinor: 0,
    })
    expect(seen!.rawHeaders).toEqual(expect.arrayContaining([':path', '/a?b=1', 'x-mixed', 'v']))
    expect(seen!.socket.remoteAddress).toBe('127.0.0.1')
  })

  it('throws a body away, and with none to throw, leaves the response whole', async () => {
    await serving((req, res) => {
      req.resume()
      res.writeHead(200, ['content-length', '2'])
      res.end('ok')
    })
    expect(await ask({ ':method': 'POST', ':path': '/' }, 'x'.repeat(100_000))).toMatchObject({
      body: 'ok',
      rstCode: 0,
    })
    expect(await ask({ ':path': '/' })).toMatchObject({ body: 'ok', rstCode: 0 })
  })
})

describe('Http2Reply', () => {
  it('sends the head in order with repeated fields, leaving off what HTTP/2 forbids', async () => {
    await serving((_req, res) => {
      res.writeHead(200, [
        'Set-Cookie',
        'a=1',
        'Connection',
        'close',
        'keep-alive',
        'timeout=5',
        'Transfer-Encoding',
        'chunked',
        'Upgrade',
        'h2c',
        'TE',
        'trailers',
        'set-cookie',
        'b=2',
        'content-type',
        'text/plain',
      ])
      res.end('hi')
    })
    const answer = await ask({ ':path': '/' })
    expect(answer.head[':status']).toBe(200)
    expect(answer.raw.filter((_, i) => i % 2 === 0 && !answer.raw[i].startsWith(':'))).toEqual([
      'set-cookie',
      'set-cookie',
      'content-type',
      'date',
    ])
    expect(answer.head['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(answer.body).toBe('hi')
  })

  it('answers HEAD with the head alone: the body written after it goes nowhere', async () => {
    let sent = false
    await serving((_req, res) => {
      res.writeHead(200, ['content-length', '5'])
      expect(res.headersSent).toBe(true)
      expect(res.write(Buffer.from('hello'))).toBe(true)
      res.end('hello')
      sent = true
    })
    const answer = await ask({ ':method': 'HEAD', ':path': '/' })
    expect(sent).toBe(true)
    expect(answer).toMatchObject({ body: '', rstCode: 0 })
    expect(answer.head['content-length']).toBe('5')
  })

  it('streams the body in writes, and reports its close', async () => {
    const closed = Promise.withResolvers<void>()
    await serving((_req, res) => {
      res.on('close', () => closed.resolve())
      res.writeHead(200, [])
      res.write(Buffer.from('one,'))
      res.write(Buffer.from('two'))
      res.end()
    })
    expect((await ask({ ':path': '/' })).body).toBe('one,two')
    await within(closed.promise, 5000, 'the close')
  })

  it('resets the stream with INTERNAL_ERROR when destroyed mid-body', async () => {
    await serving((_req, res) => {
      res.writeHead(200, [])
      res.write(Buffer.from('partial'))
      res.destroy()
    })
    const answer = await ask({ ':path': '/' })
    expect(answer).toMatchObject({ body: 'partial', rstCode: constants.NGHTTP2_INTERNAL_ERROR })
  })
})
