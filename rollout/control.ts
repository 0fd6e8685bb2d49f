// Forced paths and decision traces, for tests and operators: a request may pin
// itself to `new` or `legacy` and ask why it went where it went, but only with
// proof of the admin token: an HMAC over the request and a timestamp (the token
// itself never travels, least of all in DNS). Over HTTP in headers; over DNS in
// an EDNS option of local-use code. Anything unproven is ignored.

import { createHmac, timingSafeEqual } from 'node:crypto'
import { LOWER } from '../dns/name.ts'
import type { QueryView } from '../dns/query-view.ts'
import type { Path } from './scope.ts'

/** How far a signed request's clock may be from ours. */
export const MAX_SKEW_S = 300

export const HTTP_FORCE = 'x-cutover-force'
export const HTTP_TRACE = 'x-cutover-trace'
export const HTTP_AUTH = 'x-cutover-auth'

export interface Control {
  force: Path | undefined
  trace: boolean
}

const FORCE_NEW = 1
const FORCE_LEGACY = 2
const TRACE = 4
const MAC_BYTES = 16

function mac(token: string, parts: (string | Buffer)[]): Buffer {
  const h = createHmac('sha256', token)
  for (const p of parts) h.update(p).update('\n')
  return h.digest().subarray(0, MAC_BYTES)
}

function fresh(ts: number, nowS: number): boolean {
  return Number.isInteger(ts) && Math.abs(nowS - ts) <= MAX_SKEW_S
}

/** The X-Cutover-Auth value for an HTTP request: `<unix seconds>.<hex MAC>`. */
export function signHttp(
  token: string,
  ts: number,
  method: string,
  host: string,
  target: string,
  force: string,
  trace: string,
): string {
  return `${ts}.${mac(token, [String(ts), method, host, target, force, trace]).toString('hex')}`
}

/** The control an HTTP request carries, if its X-Cutover-Auth proves the token; undefined otherwise. */
export function httpControl(
  token: string,
  nowS: number,
  method: string,
  host: string,
  target: string,
  force: string | undefined,
  trace: string | undefined,
  auth: string | undefined,
): Control | undefined {
  if (auth === undefined || (force === undefined && trace === undefined)) return undefined
  const dot = auth.indexOf('.')
  const ts = Number(auth.slice(0, dot))
  if (dot < 0 || !fresh(ts, nowS)) return undefined
  const given = Buffer.from(auth.slice(dot + 1), 'hex')
  const want = mac(token, [String(ts), method, host, target, force ?? '', trace ?? ''])
  if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined
  return { force: force === 'new' || force === 'legacy' ? force : undefined, trace: trace === '1' }
}

/** The question part the DNS MAC covers: ID, lowercased name, type. */
function dnsParts(query: Uint8Array, view: QueryView): Buffer {
  const q = Buffer.allocUnsafe(2 + view.qnameEnd - 12 + 2)
  q[0] = query[0]
  q[1] = query[1]
  for (let i = 12; i < view.qnameEnd; i++) q[2 + i - 12] = LOWER[query[i]]
  q[q.length - 2] = query[view.qnameEnd]
  q[q.length - 1] = query[view.qnameEnd + 1]
  return q
}

/** The EDNS option data asking for `control` on a query with this ID, name and type. */
export function signDns(
  token: string,
  ts: number,
  control: Control,
  id: number,
  qnameWire: Uint8Array,
  qtype: number,
): Buffer {
  const flags =
    (control.force === 'new' ? FORCE_NEW : control.force === 'legacy' ? FORCE_LEGACY : 0) |
    (control.trace ? TRACE : 0)
  const question = Buffer.alloc(2 + qnameWire.length + 2)
  question.writeUInt16BE(id, 0)
  for (let i = 0; i < qnameWire.length; i++) question[2 + i] = LOWER[qnameWire[i]]
  question.writeUInt16BE(qtype, question.length - 2)
  const head = Buffer.from([flags, ts >>> 24, (ts >>> 16) & 0xff, (ts >>> 8) & 0xff, ts & 0xff])
  return Buffer.concat([head, mac(token, [head, question])])
}

/** The control a DNS query carries in option `code`, if its MAC proves the token; undefined otherwise. */
export function dnsControl(
  token: string,
  nowS: number,
  code: number,
  query: Uint8Array,
  view: QueryView,
): Control | undefined {
  const at = view.localOptionOffset
  if (at < 0 || view.localOptionCode !== code) return undefined
  const len = (query[at - 2] << 8) | query[at - 1]
  if (len !== 5 + MAC_BYTES) return undefined
  const flags = query[at]
  const ts =
    ((query[at + 1] << 24) | (query[at + 2] << 16) | (query[at + 3] << 8) | query[at + 4]) >>> 0
  if (!fresh(ts, nowS)) return undefined
  const want = mac(token, [Buffer.from(query.subarray(at, at + 5)), dnsParts(query, view)])
  if (!timingSafeEqual(Buffer.from(query.subarray(at + 5, at + 5 + MAC_BYTES)), want))
    return undefined
  return {
    force: flags & FORCE_NEW ? 'new' : flags & FORCE_LEGACY ? 'legacy' : undefined,
    trace: (flags & TRACE) !== 0,
  }
}

/** A decision trace: scope, bucket, percentage, path and fallback reason, as `key=value; ...`. */
export function traceText(
  scope: string,
  bucket: number | undefined,
  basisPoints: number,
  path: string,
  forced: boolean,
  reason: string | undefined,
): string {
  return `scope=${scope}; bucket=${bucket ?? '-'}; percent=${(basisPoints / 100).toFixed(2)}; path=${path}${forced ? ' (forced)' : ''}; reason=${reason ?? '-'}`
}

/** `raw` without the X-Cutover-* fields that ask for a forced path or a trace: the proof is for one hop only. */
export function withoutControlHeaders(raw: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2)
    if (!raw[i].toLowerCase().startsWith('x-cutover-')) out.push(raw[i], raw[i + 1])
  return out
}
