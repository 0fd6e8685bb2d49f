// Access and query logs: one JSON line per sampled HTTP request (log.access) and
// DNS query (log.queries), written to pino's asynchronous destination (sonic-boom). A
// file is opened for appending and gets whole lines in each write, so workers
// can share it; it is reopened on SIGUSR1 and on reload (logrotate without copytruncate).

import { closeSync, openSync } from 'node:fs'
import { type Logger, pino } from 'pino'
import { CutoverError } from '../../common/cutover-error.ts'
import { rcodeName, typeName } from '../../dns/constants.ts'
import { wireToText } from '../../dns/name.ts'
import type { DnsTransport } from '../../modules/dns-module.ts'
import { BUCKETS } from '../../rollout/bucket.ts'
import type { LogConfig, SampledLogConfig } from '../config/config.ts'
import type { DnsReplier } from '../dns/engine.ts'
import { type Destination, LineBatch } from './line-batch.ts'
import type { PathLabel } from './metrics.ts'

/** Lines waiting for a slow disk past this are dropped (and the drop logged), not held without bound. */
const MAX_BUFFERED = 16 * 1024 * 1024
const STDOUT = '-'

/** A scope, as a line names it. */
type Scoped = { readonly id: string }

/** Milliseconds to the microsecond: enough for a reader, short in the line. */
function ms(t: number): number {
  return Math.round(t * 1000) / 1000
}

/** The time as ISO 8601 text, made once per millisecond: many lines share one at load. */
let isoAt = 0
let iso = ''
function isoNow(): string {
  const now = Date.now()
  if (now !== isoAt) {
    isoAt = now
    iso = new Date(now).toISOString()
  }
  return iso
}

/**
 * One log's share of requests and where its lines go; the line's first field
 * says which log it is. Lines are the JSON a pino logger with that base would
 * write, built here in one string: pino's general serializer cost a quarter
 * of a module answer's throughput at 100 %.
 */
class SampledLog {
  readonly #name: 'access' | 'queries'
  #basisPoints = 0
  #lines: LineBatch | undefined
  /** The fields every line of this log and worker starts with, around the time. */
  #head = ''
  #afterTime = ''

  constructor(name: 'access' | 'queries') {
    this.#name = name
  }

  /** Whether this request gets a line: decided before anything is built, a comparison when off. */
  sampled(): boolean {
    const bp = this.#basisPoints
    return bp !== 0 && (bp >= BUCKETS || Math.random() * BUCKETS < bp)
  }

  /** Lines from now on go to `destination` for `basisPoints` of requests (none without one). */
  use(basisPoints: number, lines: LineBatch | undefined, worker: number): void {
    this.#basisPoints = lines === undefined ? 0 : basisPoints
    this.#lines = lines
    this.#head = `{"log":"${this.#name}","time":"`
    this.#afterTime = `","worker":${worker},`
  }

  /** Writes `fields` (an object literal; undefined values are left out) as one line. */
  protected write(fields: object): void {
    this.#lines?.write(
      `${this.#head}${isoNow()}${this.#afterTime}${JSON.stringify(fields).slice(1)}\n`,
    )
  }
}

/** What a finished HTTP request tells its line (an HttpExchange has all of it). */
export interface HttpLogged {
  readonly clientIp: string
  readonly scope: Scoped
  readonly servedBy: PathLabel
  readonly reason: string | undefined
  readonly method: string
  readonly host: string
  readonly target: string
  /** performance.now() at arrival, when the upstream was asked (0: never), when its head came (0: never). */
  readonly start: number
  readonly upstreamAt: number
  readonly headAt: number
  /** Body bytes sent to the client. */
  readonly bytes: number
}

/** log.access: one line per sampled HTTP request. */
export class HttpAccessLog extends SampledLog {
  constructor() {
    super('access')
  }

  /** Writes `x`'s line when it is sampled; `status` is what the client got (499: it left first). */
  request(x: HttpLogged, status: number): void {
    if (!this.sampled()) return
    const now = performance.now()
    this.write({
      client: x.clientIp,
      scope: x.scope.id,
      path: x.servedBy,
      reason: x.reason,
      method: x.method,
      host: x.host,
      target: x.target,
      status,
      bytes: x.bytes,
      durationMs: ms(now - x.start),
      upstreamMs: x.upstreamAt === 0 ? undefined : ms((x.headAt || now) - x.upstreamAt),
    })
  }
}

/** The query as the engine holds it while routing (its DnsContext). */
interface QueryAt {
  readonly query: Buffer
  readonly view: { readonly qtype: number }
  readonly transport: DnsTransport
}

/** log.queries: one line per sampled DNS query, written as its reply goes out. */
export class DnsQueryLog extends SampledLog {
  constructor() {
    super('queries')
  }

  /**
   * For a sampled query, a replier that passes replies on to `replier` and
   * writes the query's line; undefined for the others (nothing is built for them).
   */
  sample<P>(
    at: QueryAt,
    client: string,
    scope: Scoped,
    path: PathLabel,
    start: number,
    peer: P,
    replier: DnsReplier<P>,
  ): LoggedReply<P> | undefined {
    if (!this.sampled()) return undefined
    const fields: QueryFields = {
      client,
      qname: wireToText(at.query, 12),
      qtype: typeName(at.view.qtype),
      protocol: at.transport === 'tcp' && overTls(peer) ? 'dot' : at.transport,
      start,
    }
    return new LoggedReply(this, replier, fields, scope, path)
  }

  line(f: QueryFields, r: LoggedReply<unknown>, reply: Buffer, length: number): void {
    const now = performance.now()
    this.write({
      client: f.client,
      scope: r.scope.id,
      path: r.path,
      reason: r.reason,
      qname: f.qname,
      qtype: f.qtype,
      protocol: f.protocol,
      rcode: rcodeName(reply[3] & 0xf),
      bytes: length,
      durationMs: ms(now - f.start),
      upstreamMs: r.upstreamAt === 0 ? undefined : ms(now - r.upstreamAt),
    })
  }
}

interface QueryFields {
  client: string
  qname: string
  qtype: string
  protocol: DnsTransport | 'dot'
  start: number
}

/** DNS over TLS reaches the engine as `tcp`; its peer is a connection on a TLS socket. */
function overTls(peer: unknown): boolean {
  return (peer as { socket?: { encrypted?: boolean } }).socket?.encrypted === true
}

/** A sampled query's replier: the reply goes on to the listener's, then the line is written. */
export class LoggedReply<P> implements DnsReplier<P> {
  readonly scope: Scoped
  /** Set by the engine as it routes: fallback, with the reason, once the new path hands the query over. */
  path: PathLabel
  reason: string | undefined = undefined
  /** When the legacy was asked (performance.now()); 0 when the query was answered here. */
  upstreamAt = 0
  readonly #log: DnsQueryLog
  readonly #inner: DnsReplier<P>
  readonly #fields: QueryFields

  constructor(
    log: DnsQueryLog,
    inner: DnsReplier<P>,
    fields: QueryFields,
    scope: Scoped,
    path: PathLabel,
  ) {
    this.#log = log
    this.#inner = inner
    this.#fields = fields
    this.scope = scope
    this.path = path
  }

  sendReply(peer: P, buf: Buffer, length: number): void {
    this.#inner.sendReply(peer, buf, length)
    this.#log.line(this.#fields, this, buf, length)
  }

  dropped(peer: P): void {
    this.#inner.dropped(peer)
  }
}

/**
 * An instance's access and query logs and the destinations they write to (one
 * per file, shared when both name the same one); lives as long as the instance,
 * its settings replaced on reload.
 */
export class AccessLogs {
  readonly access = new HttpAccessLog()
  readonly queries = new DnsQueryLog()
  readonly #worker: number
  readonly #log: Logger
  #destinations = new Map<string, LineBatch>()
  /** Destinations asked to reopen whose new file is not open yet. */
  readonly #reopening = new Set<Destination>()
  /** Destinations that reported an error: one whose file never opened would never close. */
  readonly #failed = new WeakSet<Destination>()
  #lastDropWarning = 0

  /** `worker`: the id each line carries (0 in one process); `log`: where trouble writing is reported. */
  constructor(config: LogConfig, worker: number, log: Logger) {
    this.#worker = worker
    this.#log = log
    checkLogFiles(config)
    this.configure(config)
  }

  /**
   * Takes `config`'s settings; a file kept from before is reopened (a reload
   * reopens, as SIGUSR1 does). Call checkLogFiles(config) first, so this cannot fail.
   */
  configure(config: LogConfig): void {
    const next = new Map<string, LineBatch>()
    const destinationFor = (c: SampledLogConfig): LineBatch | undefined => {
      if (c.percent === 0) return undefined
      const key = c.file ?? STDOUT
      let d = next.get(key)
      if (d === undefined) {
        d = this.#destinations.get(key)
        if (d === undefined) d = new LineBatch(this.#open(key))
        else if (key !== STDOUT) this.#reopen(d)
        next.set(key, d)
      }
      return d
    }
    this.access.use(config.access.percent, destinationFor(config.access), this.#worker)
    this.queries.use(config.queries.percent, destinationFor(config.queries), this.#worker)
    for (const [key, d] of this.#destinations) if (!next.has(key)) void this.#end(d)
    this.#destinations = next
  }

  /** Reopens the files by name: after logrotate moved them away, lines go to new files. */
  reopen(): void {
    for (const [key, d] of this.#destinations) if (key !== STDOUT) this.#reopen(d)
  }

  /** Stops logging; resolves when every buffered line is written and the files are closed. */
  async close(): Promise<void> {
    this.access.use(0, undefined, this.#worker)
    this.queries.use(0, undefined, this.#worker)
    const closing = [...this.#destinations.values()].map((d) => this.#end(d))
    this.#destinations.clear()
    await Promise.all(closing)
  }

  #reopen(lines: LineBatch): void {
    lines.flush()
    const d = lines.destination
    if (!this.#reopening.has(d)) {
      this.#reopening.add(d)
      const settled = () => {
        this.#reopening.delete(d)
        d.off('ready', settled)
        d.off('error', settled)
      }
      d.on('ready', settled)
      d.on('error', settled)
    }
    d.reopen()
  }

  /**
   * Ends `d` once a reopen asked of it has opened the new file: sonic-boom drops
   * a reopen still waiting behind a write when end() comes first, and then never closes.
   */
  #end(lines: LineBatch): Promise<void> {
    lines.flush()
    const d = lines.destination
    return new Promise((resolve) => {
      d.once('close', () => resolve())
      d.once('error', () => resolve())
      if (this.#reopening.has(d)) d.once('ready', () => d.end())
      else d.end()
      if (this.#failed.has(d)) resolve()
    })
  }

  #open(key: string): Destination {
    const d = pino.destination({
      dest: key === STDOUT ? 1 : key,
      sync: false,
      append: true,
      maxLength: MAX_BUFFERED,
    })
    d.on('error', (err: Error) => {
      this.#failed.add(d)
      this.#log.error({ err: err.message, file: key }, 'access log: cannot write')
    })
    d.on('drop', () => {
      const now = performance.now()
      if (now - this.#lastDropWarning < 1000) return
      this.#lastDropWarning = now
      this.#log.warn({ file: key }, 'access log: lines dropped, the disk is behind')
    })
    return d
  }
}

/** Throws CONFIG_INVALID naming the key when a log file cannot be opened for appending. */
export function checkLogFiles(config: LogConfig): void {
  for (const key of ['access', 'queries'] as const) {
    const { percent, file } = config[key]
    if (percent === 0 || file === undefined) continue
    try {
      closeSync(openSync(file, 'a'))
    } catch (err) {
      throw new CutoverError(
        'CONFIG_INVALID',
        `log.${key}.file: cannot open ${file} for appending: ${(err as Error).message}`,
      )
    }
  }
}
