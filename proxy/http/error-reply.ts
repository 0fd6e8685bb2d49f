// Every error reply the HTTP side writes, in one place: what a failure becomes
// (413 for a body over the limit, 504 for a slow upstream, 502 for a broken
// one), and the short plain-text reply itself, on a response or, for what
// Node's parser refused before there was one, on the socket.

import { STATUS_CODES } from 'node:http'
import type { CutoverError } from '../../common/cutover-error.ts'
import type { ServerReply } from './http2-stream.ts'

/** The status a failed exchange gets: the client's fault, a slow upstream, or a broken one. */
export function statusOf(err: CutoverError): number {
  if (err.code === 'CUTOVER_ERR_BODY_TOO_LARGE') return 413
  return err.code === 'CUTOVER_ERR_UPSTREAM_TIMEOUT' ? 504 : 502
}

/** RFC 9110's reason phrases where Node still has the older ones. */
const REASONS: Record<number, string> = { 413: 'Content Too Large', 422: 'Unprocessable Content' }

function reasonOf(status: number): string {
  return REASONS[status] ?? STATUS_CODES[status] ?? 'Error'
}

/**
 * Writes `status` with its reason phrase and `detail` (what was wrong, for the
 * person reading it) as a plain-text body; `headers` go with it (a trace).
 */
export function sendError(
  res: ServerReply,
  status: number,
  detail?: string,
  headers?: readonly string[],
): void {
  const body = `${reasonOf(status)}${detail ? `: ${detail}` : ''}\n`
  const head = [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
  ]
  if (headers) head.push(...headers)
  res.writeHead(status, head)
  res.end(body)
}

/** A whole HTTP/1.1 error response for a socket that has no response object; it closes the connection. */
export function rawErrorResponse(status: number): string {
  const body = `${reasonOf(status)}\n`
  return `HTTP/1.1 ${status} ${reasonOf(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`
}
