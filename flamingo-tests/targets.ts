// The two sides of a comparison and how a case is sent to each. DNS goes over
// UDP or TCP (pooled, pipelined, IDs checked: the legacy adapter's clients) or
// DoH; HTTP through an undici pool, with the headers that force the new path
// (signed with the admin token) when the target is the proxy.

import { request as httpRequest, Pool } from 'undici'
import { CutoverError } from '../common/cutover-error.ts'
import { Class, typeCode } from '../dns/constants.ts'
import { buildQuery } from '../dns/message.ts'
import { createQueryView, readQuery } from '../dns/query-view.ts'

import {
  DnsForwarder,
  type ForwardFailure,
  type LegacyExchange,
} from '../legacy-adapter/dns-forwarder.ts'
import { type TcpReplyHandler, TcpUpstream } from '../legacy-adapter/dns-tcp-upstream.ts'
import { HTTP_AUTH, HTTP_FORCE, signHttp } from '../rollout/control.ts'
import type { HttpSeen } from './http-compare.ts'
import type { DnsCase, HttpCase } from './suite.ts'

export interface TargetSpec {
  /** For reports: `legacy 127.0.0.1:5301`, `candidate 127.0.0.1:5354`. */
  label: string
  dns?: { host: string; port: number }
  /** Base URL for DoH: `http://127.0.0.1:8080/dns-query`. */
  doh?: string
  /** Base URL for HTTP cases. */
  http?: string
  /** With the admin token, HTTP requests are forced to the new path. */
  forceNewWith?: string
}

const TIMEOUT_MS = 3000

class Query implements LegacyExchange {
  readonly query: Buffer
  readonly questionEnd: number
  readonly largeReplies = false
  readonly stream = false
  readonly done: Promise<Buffer>
  #resolve!: (b: Buffer) => void
  #reject!: (e: Error) => void

  constructor(query: Buffer) {
    this.query = query
    const view = createQueryView()
    readQuery(query, query.length, view)
    this.questionEnd = view.questionEnd
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  finish(reply: Buffer | undefined, failure: ForwardFailure | undefined): void {
    if (reply) this.#resolve(Buffer.from(reply))
    else
      this.#reject(
        new CutoverError(
          failure === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE',
          `no DNS reply (${failure})`,
        ),
      )
  }
}

/** A target ready to take cases. */
export class Target implements TcpReplyHandler {
  readonly spec: TargetSpec
  #udp: DnsForwarder | undefined
  #tcp: TcpUpstream | undefined
  readonly #tcpWaiting = new Map<number, (reply: Buffer | undefined) => void>()
  #nextTcpId = 1
  #http: Pool | undefined

  constructor(spec: TargetSpec) {
    this.spec = spec
  }

  async open(): Promise<void> {
    const d = this.spec.dns
    if (d) {
      this.#udp = new DnsForwarder({
        servers: [d],
        timeoutMs: TIMEOUT_MS,
        attempts: 2,
        sockets: 4,
        maxInFlight: 20_000,
        failuresBeforeDown: 1_000_000,
        healthIntervalMs: 60_000,
        tcpIdleMs: 10_000,
        probe: buildQuery({ name: '.', type: 6 }),
      })
      await this.#udp.start()
      this.#tcp = new TcpUpstream(d.host, d.port, 10_000, this)
    }
    if (this.spec.http) this.#http = new Pool(this.spec.http, { connections: 64 })
  }

  async close(): Promise<void> {
    this.#udp?.close()
    this.#tcp?.close()
    await this.#http?.close()
  }

  onTcpReply(id: number, reply: Buffer | undefined): void {
    const waiting = this.#tcpWaiting.get(id)
    this.#tcpWaiting.delete(id)
    waiting?.(reply)
  }

  /** Sends a DNS case; resolves with the raw reply. */
  async dns(c: DnsCase, query: Buffer): Promise<Buffer> {
    if (c.transport === 'doh') return this.#doh(query)
    if (!this.#udp || !this.#tcp)
      throw new CutoverError('USAGE', `${this.spec.label} has no DNS address`)
    if (c.transport === 'udp') {
      const q = new Query(Buffer.from(query))
      this.#udp.forward(q)
      return q.done
    }
    const id = this.#nextTcpId
    this.#nextTcpId = (this.#nextTcpId + 1) & 0xffff || 1
    const framed = Buffer.from(query)
    const clientId = framed.readUInt16BE(0)
    framed.writeUInt16BE(id, 0)
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#tcpWaiting.delete(id)
        this.#tcp?.forget(id)
        resolve(undefined)
      }, TIMEOUT_MS)
      this.#tcpWaiting.set(id, (r) => {
        clearTimeout(timer)
        resolve(r)
      })
      this.#tcp!.send(id, framed)
    })
    if (!reply)
      throw new CutoverError(
        'UPSTREAM_TIMEOUT',
        `no DNS reply over TCP from ${this.spec.label} within ${TIMEOUT_MS} ms`,
      )
    const out = Buffer.from(reply)
    out.writeUInt16BE(clientId, 0)
    return out
  }

  async #doh(query: Buffer): Promise<Buffer> {
    if (!this.spec.doh) throw new CutoverError('USAGE', `${this.spec.label} has no DoH URL`)
    const res = await httpRequest(this.spec.doh, {
      method: 'POST',
      headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      body: query,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    })
    const body = Buffer.from(await res.body.arrayBuffer())
    if (res.statusCode !== 200)
      throw new CutoverError(
        'UPSTREAM_BAD_REPLY',
        `DoH at ${this.spec.doh} answered ${res.statusCode}: ${body.toString().slice(0, 100)}`,
      )
    return body
  }

  /** Sends an HTTP case; resolves with the normalised response. */
  async http(c: HttpCase): Promise<HttpSeen> {
    if (!this.#http) throw new CutoverError('USAGE', `${this.spec.label} has no HTTP address`)
    const headers: Record<string, string> = { ...c.headers, host: c.host }
    if (this.spec.forceNewWith) Object.assign(headers, forceNewHeaders(c, this.spec.forceNewWith))
    const res = await this.#http.request({
      method: c.method as 'GET',
      path: c.path,
      headers,
      body: c.body,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    })
    const seen: Record<string, string> = {}
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue
      seen[k] = Array.isArray(v) ? v.join(k === 'set-cookie' ? ' | ' : ', ') : v
    }
    return {
      status: res.statusCode,
      headers: seen,
      body: Buffer.from(await res.body.arrayBuffer()),
    }
  }
}

/**
 * The headers that force an HTTP case onto the new path, signed with `token`
 * now: valid for five minutes, and the token itself is not in them.
 */
export function forceNewHeaders(c: HttpCase, token: string): Record<string, string> {
  const host = c.host.split(':')[0].toLowerCase()
  const auth = signHttp(token, Math.floor(Date.now() / 1000), c.method, host, c.path, 'new', '')
  return { [HTTP_FORCE]: 'new', [HTTP_AUTH]: auth }
}

/** The query a DNS case sends (the same bytes to both sides). */
export function queryFor(c: DnsCase, id: number): Buffer {
  return buildQuery({
    id,
    name: c.name,
    type: typeCode(c.type)!,
    class: c.class === 'IN' ? Class.IN : Class.CH,
    rd: c.rd,
    edns: c.edns === false ? undefined : { udpSize: c.edns, do: c.do },
  })
}
