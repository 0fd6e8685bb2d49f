// Records a sampled share of live requests as suite cases, so real traffic
// becomes a regression suite for `cutover diff`: DNS questions and HTTP
// requests, without bodies, and without credentials (Authorization, Cookie and
// the like) unless the config says to keep them. Written atomically every few
// seconds, bounded in cases.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { className, Flag, typeName } from '../../dns/constants.ts'
import { wireToText } from '../../dns/name.ts'
import type { QueryView } from '../../dns/query-view.ts'
import type { DnsCase, HttpCase } from '../../flamingo-tests/suite.ts'
import type { DnsTransport } from '../../modules/dns-module.ts'

export interface RecorderOptions {
  dir: string
  /** Share of requests recorded, in basis points. */
  basisPoints: number
  maxCases: number
  /** Keep credential headers (off by default). */
  secrets: boolean
  /** Added to the file names, so several workers do not write one file (`-2`). */
  suffix?: string
}

/** Headers that carry credentials or session state. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
])
/** Headers that only describe this hop or this proxy's controls. */
const HOP_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'te',
  'upgrade',
  'expect',
])
const FLUSH_MS = 5000

export class TrafficRecorder {
  readonly #o: RecorderOptions
  readonly #dns: DnsCase[] = []
  readonly #http: HttpCase[] = []
  readonly #seen = new Set<string>()
  #dirty = false
  readonly #timer: NodeJS.Timeout

  constructor(options: RecorderOptions) {
    this.#o = options
    mkdirSync(options.dir, { recursive: true })
    this.#timer = setInterval(() => this.flush(), FLUSH_MS)
    this.#timer.unref()
  }

  #sampled(): boolean {
    return (
      this.#dns.length + this.#http.length < this.#o.maxCases &&
      Math.random() * 10_000 < this.#o.basisPoints
    )
  }

  dns(query: Uint8Array, view: QueryView, transport: DnsTransport): void {
    if (!this.#sampled()) return
    const c: DnsCase = {
      name: wireToText(query.subarray(12, view.qnameEnd)),
      type: typeName(view.qtype),
      class: className(view.qclass) === 'CH' ? 'CH' : 'IN',
      transport,
      edns: view.edns ? view.ednsUdpSize : false,
      do: view.ednsDo,
      rd: (view.flags & Flag.RD) !== 0,
      allow: [],
    }
    this.#add(this.#dns, c, `${c.name}|${c.type}|${c.transport}|${c.edns}|${c.do}|${c.rd}`)
  }

  http(method: string, host: string, target: string, raw: readonly string[]): void {
    if (!this.#sampled()) return
    const headers: Record<string, string> = {}
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase()
      if (
        HOP_HEADERS.has(name) ||
        name.startsWith('x-cutover-') ||
        (!this.#o.secrets && SECRET_HEADERS.has(name))
      )
        continue
      headers[name] = headers[name] === undefined ? raw[i + 1] : `${headers[name]}, ${raw[i + 1]}`
    }
    this.#add(
      this.#http,
      { method, host, path: target, headers, ignore: [] },
      `${method}|${host}|${target}`,
    )
  }

  #add<T>(list: T[], c: T, key: string): void {
    if (this.#seen.has(key)) return
    this.#seen.add(key)
    list.push(c)
    this.#dirty = true
  }

  /** Writes the suites (atomically) if anything was recorded since the last write. */
  flush(): void {
    if (!this.#dirty) return
    this.#dirty = false
    const write = (name: string, suite: object) => {
      const file = join(this.#o.dir, name)
      writeFileSync(`${file}.tmp`, stringify(suite))
      renameSync(`${file}.tmp`, file)
    }
    const suffix = this.#o.suffix ?? ''
    if (this.#dns.length > 0) write(`recorded-dns${suffix}.yaml`, { kind: 'dns', cases: this.#dns })
    if (this.#http.length > 0)
      write(`recorded-http${suffix}.yaml`, { kind: 'http', cases: this.#http })
  }

  close(): void {
    clearInterval(this.#timer)
    this.flush()
  }
}
