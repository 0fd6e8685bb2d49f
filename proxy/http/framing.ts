// Request shapes Node's HTTP parser accepts but a proxy must refuse (request
// smuggling, RFC 9112), and the size limit on a chunked request body that
// only shows as it streams.

import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { CutoverError } from '../../common/cutover-error.ts'
import { headerAll, headerGet, isField } from '../../common/header-list.ts'
import { Http2Request, type ServerRequest } from './http2-stream.ts'

/** Why the request is refused (its status and the detail), or undefined when its framing is sound. */
export function framingError(
  req: ServerRequest,
  raw: readonly string[],
  maxBody: number,
): { status: number; detail: string } | undefined {
  let hosts = 0
  for (let i = 0; i < raw.length; i += 2) if (isField(raw[i], 'host')) hosts++
  if (hosts > 1) return { status: 400, detail: 'more than one Host header' }
  const te = transferEncoding(raw)
  if (te !== undefined && req.httpVersionMinor === 0) {
    return { status: 400, detail: 'Transfer-Encoding in an HTTP/1.0 request' }
  }
  // Node takes the chunking off and would pass the rest (gzip...) on as if it were plain (RFC 9112 section 6.1).
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') {
    return { status: 501, detail: `transfer coding ${JSON.stringify(te)}` }
  }
  if (req.url === '*') return { status: 501, detail: 'OPTIONS * is not forwarded' }
  const length = headerGet(raw, 'content-length')
  if (length !== undefined && Number(length) > maxBody) {
    return { status: 413, detail: `the limit is ${maxBody} bytes` }
  }
  return undefined
}

/** Transfer-Encoding's values as one list (as Node joins them), or undefined. */
function transferEncoding(raw: readonly string[]): string | undefined {
  const all = headerAll(raw, 'transfer-encoding')
  return all.length === 0 ? undefined : all.join(', ')
}

/**
 * The request body to forward: none, the request itself (its length is
 * known), or a chunked one within `max`. From `raw`, the fields as received:
 * Node's `req.headers` is an object it builds on first use, a cost per request.
 */
export function requestBody(
  req: ServerRequest,
  raw: readonly string[],
  max: number,
): Readable | null {
  if (!hasBody(req, raw)) return null
  // undici destroys a body once it is sent: an HTTP/2 stream destroyed loses its response too.
  if (req instanceof Http2Request) return req.stream.pipe(new BodyLimit(max))
  return headerGet(raw, 'content-length') === undefined ? req.pipe(new BodyLimit(max)) : req
}

/** Whether the request carries a body, from `raw` (the fields as received). */
export function hasBody(req: ServerRequest, raw: readonly string[]): boolean {
  const length = headerGet(raw, 'content-length')
  if (length !== undefined) return length !== '0'
  // HTTP/2 frames a body itself (RFC 9113 section 8.1): it has one unless the HEADERS frame ended the stream.
  return req instanceof Http2Request
    ? !req.stream.endAfterHeaders
    : headerGet(raw, 'transfer-encoding') !== undefined
}

/**
 * The fields of an HTTP/2 request as an HTTP/1.1 one carries them: no
 * pseudo-header fields, and `:authority` as Host when there is no Host
 * (RFC 9113 section 8.3.1).
 */
export function http1Fields(raw: readonly string[]): string[] {
  const out: string[] = []
  let authority: string | undefined
  let host = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    if (name === ':authority') authority = raw[i + 1]
    else if (name.charCodeAt(0) !== 58) {
      if (name === 'host') host = true
      out.push(name, raw[i + 1])
    }
  }
  if (!host && authority !== undefined) out.push('host', authority)
  return out
}

/** Passes a chunked request body through, failing it once it passes the size limit. */
class BodyLimit extends Transform {
  readonly #max: number
  #seen = 0

  constructor(max: number) {
    super()
    this.#max = max
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.#max)
      done(new CutoverError('BODY_TOO_LARGE', `request body over the ${this.#max}-byte limit`))
    else done(null, chunk)
  }
}
