// End to end: DNS over HTTPS (RFC 8484) on the HTTP listener. GET with ?dns=
// and POST with an application/dns-message body get the same answers the DNS
// engine gives over UDP, cacheable for the smallest TTL in them, and counted as
// DNS requests; requests that are not DoH get 400, 405 or 415.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Flag, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage, type Message } from '../../dns/message.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const MEDIA = 'application/dns-message'

let proxy: TestProxy
let base: string
let zoneDir: string

beforeAll(async () => {
  // A second zone whose answers mix TTLs, so "the smallest" is told apart from "the first".
  zoneDir = mkdtempSync(join(tmpdir(), 'cutover-doh-'))
  writeFileSync(
    join(zoneDir, 'ttl.test.zone'),
    [
      '$ORIGIN ttl.test.',
      '@ 3600 IN SOA ns1 hostmaster 1 7200 900 1209600 120',
      '@ 3600 IN NS ns1',
      'ns1 3600 IN A 192.0.2.1',
      'short 60 IN CNAME long',
      'long 3600 IN A 192.0.2.99',
      '',
    ].join('\n'),
  )
  // Nothing listens on these: the legacy paths are never needed but for the SERVFAIL case.
  const [deadDns, deadHttp] = [await freePort(), await freePort()]
  proxy = await startTestProxy({
    dns: {
      listen: '127.0.0.1:0',
      zones: [
        {
          name: 'example.test',
          file: join(ROOT, 'examples', 'zones', 'example.test.zone'),
          percent: 100,
        },
        { name: 'ttl.test', file: join(zoneDir, 'ttl.test.zone'), percent: 100 },
      ],
      legacy: { servers: [`127.0.0.1:${deadDns}`], timeout: '300ms' },
    },
    http: {
      listen: '127.0.0.1:0',
      legacy: { url: `http://127.0.0.1:${deadHttp}` },
    },
  })
  base = `http://127.0.0.1:${proxy.httpPort}/dns-query`
})

afterAll(async () => {
  await proxy?.stop()
  rmSync(zoneDir, { recursive: true, force: true })
})

interface DohReply {
  status: number
  type: string | undefined
  cacheControl: string | undefined
  length: string | undefined
  body: Buffer
}

async function doh(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  query: string,
  body?: Buffer,
  contentType = MEDIA,
): Promise<DohReply & { allow: string | undefined }> {
  const res = await request(`${base}${query}`, {
    method,
    headers: body ? { 'content-type': contentType, accept: MEDIA } : { accept: MEDIA },
    body,
  })
  const one = (name: string) => {
    const v = res.headers[name]
    return Array.isArray(v) ? v.join(', ') : v
  }
  return {
    status: res.statusCode,
    type: one('content-type'),
    cacheControl: one('cache-control'),
    length: one('content-length'),
    allow: one('allow'),
    body: Buffer.from(await res.body.arrayBuffer()),
  }
}

const get = (name: string, type: number) =>
  doh('GET', `?dns=${buildQuery({ id: 0, name, type }).toString('base64url')}`)
const post = (name: string, type: number) => doh('POST', '', buildQuery({ id: 0, name, type }))

/** The smallest TTL of any record in the message (RFC 8484 section 5.1). */
function smallestTtl(m: Message): number {
  return Math.min(...[...m.answer, ...m.authority, ...m.additional].map((r) => r.ttl))
}

/** A 200 application/dns-message reply, decoded. */
function answerOf(reply: DohReply): Message {
  expect(reply.status).toBe(200)
  expect(reply.type).toBe(MEDIA)
  expect(reply.length).toBe(String(reply.body.length))
  return decodeMessage(reply.body)
}

describe('DNS over HTTPS', () => {
  it('answers a GET ?dns= query from the zone, cacheable for the smallest TTL', async () => {
    const m = answerOf(await get('www.example.test', Type.A))
    expect(m.id).toBe(0)
    expect(m.flags & Flag.AA).toBe(Flag.AA)
    expect(m.rcode).toBe(Rcode.NOERROR)
    expect(m.answer.map((r) => r.data)).toEqual(['192.0.2.10'])
    expect(smallestTtl(m)).toBe(3600)
    expect((await get('www.example.test', Type.A)).cacheControl).toBe('max-age=3600')
  })

  it('answers a POST application/dns-message query (a CNAME chain)', async () => {
    const reply = await post('shop.example.test', Type.A)
    const m = answerOf(reply)
    expect(m.questions).toEqual([{ name: 'shop.example.test.', type: Type.A, class: 1 }])
    expect(m.answer.map((r) => [r.type, r.data])).toEqual([
      [Type.CNAME, 'www.example.test.'],
      [Type.A, '192.0.2.10'],
    ])
    expect(reply.cacheControl).toBe(`max-age=${smallestTtl(m)}`)
  })

  it('takes the smallest TTL of the answer, not the first', async () => {
    const reply = await get('short.ttl.test', Type.A)
    const m = answerOf(reply)
    expect(m.answer.map((r) => [r.ttl, r.data])).toEqual([
      [60, 'long.ttl.test.'],
      [3600, '192.0.2.99'],
    ])
    expect(reply.cacheControl).toBe('max-age=60')
  })

  it('gives NXDOMAIN the negative TTL as its max-age (the SOA in authority)', async () => {
    const reply = await get('nope.example.test', Type.A)
    const m = answerOf(reply)
    expect(m.rcode).toBe(Rcode.NXDOMAIN)
    expect(m.authority.map((r) => r.type)).toEqual([Type.SOA])
    expect(smallestTtl(m)).toBe(300)
    expect(reply.cacheControl).toBe('max-age=300')
  })

  it('counts DoH queries as DNS requests on the new path', async () => {
    const counted = () => proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'new' })
    const before = await counted()
    answerOf(await get('mail.example.test', Type.A))
    answerOf(await post('ns1.example.test', Type.A))
    expect(await counted()).toBe(before + 2)
    expect(await proxy.metric('cutover_requests_total', { protocol: 'http', path: 'legacy' })).toBe(
      0,
    )
  })

  it('answers SERVFAIL, not cacheable, for a legacy name when the legacy is silent', async () => {
    const reply = await get('www.legacy.test', Type.A)
    expect(answerOf(reply).rcode).toBe(Rcode.SERVFAIL)
    expect(reply.cacheControl).toBe('no-store')
  })

  it('refuses a GET whose dns parameter is missing or not base64url with 400', async () => {
    for (const query of ['', '?dns=', '?dns=not*base64!', '?dns=AAAA%2F%2F', '?name=www']) {
      const reply = await doh('GET', query)
      expect(reply.status, query).toBe(400)
      expect(reply.type, query).toMatch(/^text\/plain/)
    }
  })

  it('refuses a GET whose dns parameter is not a DNS query with 400', async () => {
    const reply = await doh('GET', `?dns=${Buffer.from('hello').toString('base64url')}`)
    expect(reply.status).toBe(400)
  })

  it('refuses a POST of another media type with 415', async () => {
    const query = buildQuery({ id: 0, name: 'www.example.test', type: Type.A })
    for (const type of ['text/plain', 'application/octet-stream', 'application/dns-json']) {
      expect((await doh('POST', '', query, type)).status, type).toBe(415)
    }
  })

  it('refuses other methods with 405 and says which are allowed', async () => {
    for (const method of ['PUT', 'DELETE'] as const) {
      const reply = await doh(method, '')
      expect(reply.status, method).toBe(405)
      expect(reply.allow, method).toBe('GET, HEAD, POST')
    }
  })
})
