// Stand-ins for what the HTTP engine talks to, for its unit tests without
// sockets: a client request, a response that records what was written, an
// upstream with a fixed answer, and a strict read of one counter.

import { EventEmitter } from 'node:events'
import {
  type IncomingMessage,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http'
import { Readable } from 'node:stream'
import type { Registry } from 'prom-client'
import { CutoverError, type ErrorCodeName } from '../../common/cutover-error.ts'
import { headerAll } from '../../common/header-list.ts'
import type {
  HttpUpstream,
  UpstreamHandler,
  UpstreamRequest,
} from '../../legacy-adapter/http-upstream.ts'
import { familiesOfRegistry, sampleOf } from '../telemetry/metric-sample.ts'

export interface RequestShape {
  method?: string
  url?: string
  /** Flat name/value list, as Node's rawHeaders. */
  rawHeaders: string[]
  /** The request body as it arrives, chunk by chunk. */
  chunks?: Buffer[]
  httpVersionMinor?: number
}

/**
 * A client request with what the engine reads of one: a readable body (piped
 * or resumed), the raw and parsed headers, the HTTP version and the peer.
 */
export function fakeRequest(shape: RequestShape): IncomingMessage {
  const headers: Record<string, string> = {}
  for (let i = 0; i < shape.rawHeaders.length; i += 2)
    headers[shape.rawHeaders[i].toLowerCase()] ??= shape.rawHeaders[i + 1]
  const body = Readable.from(shape.chunks ?? [], { objectMode: false })
  return Object.assign(body, {
    method: shape.method ?? 'GET',
    url: shape.url ?? '/',
    rawHeaders: shape.rawHeaders,
    headers,
    httpVersionMinor: shape.httpVersionMinor ?? 1,
    socket: { remoteAddress: '192.0.2.7' },
  }) as unknown as IncomingMessage
}

/** A response that records what the engine writes; `finished` settles once it is ended or destroyed. */
export class FakeResponse extends EventEmitter {
  status = 0
  headers: string[] = []
  body = ''
  headersSent = false
  shouldKeepAlive = true
  destroyed = false
  readonly finished: Promise<void>
  #settle: () => void = () => {}

  constructor() {
    super()
    this.finished = new Promise((resolve) => {
      this.#settle = resolve
    })
  }

  /** What the engine is handed: this, as the Node type it expects. */
  get res(): ServerResponse {
    return this as unknown as ServerResponse
  }

  /** Every value the response head gave `name` (lowercase). */
  header(name: string): string[] {
    return headerAll(this.headers, name)
  }

  /** Refuses what Node's writeHead refuses: a second head, a field name or value it may not carry. */
  writeHead(status: number, headers: string[]): this {
    if (this.headersSent) throw new Error('writeHead called twice')
    for (let i = 0; i < headers.length; i += 2) {
      validateHeaderName(headers[i])
      validateHeaderValue(headers[i], headers[i + 1])
    }
    this.status = status
    this.headers = [...headers]
    this.headersSent = true
    return this
  }

  write(chunk: Buffer | string): boolean {
    this.body += chunk.toString()
    return true
  }

  end(chunk?: Buffer | string): this {
    if (chunk !== undefined) this.write(chunk)
    this.#settle()
    return this
  }

  destroy(): this {
    this.destroyed = true
    this.#settle()
    return this
  }
}

/** What a fake upstream answers: a whole response, or a failure with this code. */
export type UpstreamAnswer =
  | { status: number; headers: string[]; body: string }
  | { fail: ErrorCodeName }

export interface FakeUpstream {
  /** What the engine is handed; the engine's parts name the undici-backed class. */
  upstream: HttpUpstream
  /** The requests it was sent, in order. */
  requests: UpstreamRequest[]
  /** The body of each request, as it read it. */
  bodies: string[]
}

/**
 * An upstream that reads the request body (as undici sends it), then gives
 * `answer`; a body stream that fails is reported as undici reports it: our own
 * error as it is. It answers on a later turn, as a real one does.
 */
export function fakeUpstream(answer: UpstreamAnswer): FakeUpstream {
  const requests: UpstreamRequest[] = []
  const bodies: string[] = []
  const upstream = {
    request(req: UpstreamRequest, handler: UpstreamHandler) {
      const n = requests.push(req) - 1
      bodies[n] = ''
      let aborted = false
      const reply = () => {
        if (!aborted) give(answer, handler)
      }
      if (req.body === null) {
        setImmediate(reply)
      } else {
        req.body.on('error', (err) => {
          aborted = true
          handler.onError(
            err instanceof CutoverError ? err : new CutoverError('UPSTREAM_BAD_REPLY', err.message),
          )
        })
        req.body.on('data', (chunk: Buffer) => {
          bodies[n] += chunk.toString()
        })
        req.body.on('end', reply)
      }
      return {
        abort() {
          aborted = true
        },
        resume() {},
      }
    },
  }
  return { upstream: upstream as unknown as HttpUpstream, requests, bodies }
}

function give(answer: UpstreamAnswer, handler: UpstreamHandler): void {
  if ('fail' in answer) {
    handler.onError(new CutoverError(answer.fail, `fake upstream: ${answer.fail}`))
    return
  }
  handler.onHead(answer.status, [...answer.headers])
  handler.onData(Buffer.from(answer.body))
  handler.onEnd()
}

/** The sum of counter `name` over its samples whose labels include `labels`, read strictly. */
export async function counted(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  return sampleOf(await familiesOfRegistry(registry), name, labels)
}
