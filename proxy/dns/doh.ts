// DNS over HTTPS (RFC 8484) on the HTTP listener: GET with `?dns=` (base64url)
// and POST with an application/dns-message body, fed to the same DNS engine as
// UDP and TCP, so DoH queries take the same new/legacy decisions.

import { headerGet } from '../../common/header-list.ts'
import { Rcode } from '../../dns/constants.ts'
import { walkRecords } from '../../dns/record-walk.ts'
import { sendError } from '../http/error-reply.ts'
import { bodyOf, type ServerReply, type ServerRequest } from '../http/http2-stream.ts'
import type { DnsEngine, DnsReplier } from './engine.ts'

const MEDIA_TYPE = 'application/dns-message'
const MAX_MESSAGE = 65_535

/** Freshness for HTTP caches: the smallest TTL in the answer (RFC 8484 section 5.1). */
function maxAge(reply: Buffer): number {
  let min = Number.POSITIVE_INFINITY
  walkRecords(reply, (r) => {
    if (r.type !== 41) min = Math.min(min, reply.readUInt32BE(r.ttlOffset))
  })
  return Number.isFinite(min) ? min : 0
}

const replier: DnsReplier<ServerReply> = {
  sendReply(res, buf, length) {
    const reply = Buffer.from(buf.subarray(0, length))
    const rcode = reply[3] & 0xf
    const cacheable = rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN
    res.writeHead(200, [
      'content-type',
      MEDIA_TYPE,
      'content-length',
      String(reply.length),
      'cache-control',
      cacheable ? `max-age=${maxAge(reply)}` : 'no-store',
    ])
    res.end(reply)
  },
  dropped(res) {
    sendError(res, 400, 'not a DNS query')
  },
}

/** `engine()` gives the DNS engine serving now (it is replaced on reload). */
export function dohHandler(
  engine: () => DnsEngine,
): (req: ServerRequest, res: ServerReply, clientIp: string) => void {
  return (req, res, clientIp) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      const param = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('dns')
      if (!param || !/^[A-Za-z0-9_-]+$/.test(param)) {
        sendError(res, 400, 'expected ?dns= with a base64url DNS message')
        return
      }
      const query = Buffer.from(param, 'base64url')
      if (query.length > MAX_MESSAGE) {
        sendError(res, 414)
        return
      }
      engine().handle(query, 'doh', clientIp, res, replier)
      return
    }
    if (req.method !== 'POST') {
      sendError(res, 405, undefined, ['allow', 'GET, HEAD, POST'])
      return
    }
    const type = headerGet(req.rawHeaders, 'content-type') ?? ''
    if (type.split(';')[0].trim().toLowerCase() !== MEDIA_TYPE) {
      req.resume()
      sendError(res, 415, `send ${MEDIA_TYPE}`)
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    const body = bodyOf(req)
    body.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_MESSAGE) {
        sendError(res, 413, 'a DNS message is at most 65535 octets')
        body.destroy()
        return
      }
      chunks.push(chunk)
    })
    body.on('end', () => {
      if (size <= MAX_MESSAGE) engine().handle(Buffer.concat(chunks), 'doh', clientIp, res, replier)
    })
  }
}
