// HTTP/1.1 spoken byte by byte over a loopback socket, for what HTTP clients
// will not send (smuggling shapes, Expect: 100-continue by hand, aborts at a
// chosen moment), and a strict reader of the responses that come back.

import { connect, type Socket } from 'node:net'
import { within } from './upstream.ts'

/** One client connection; everything it receives is kept. */
export class RawConnection {
  readonly socket: Socket
  /** Resolves when the server closed the connection (or it was destroyed). */
  readonly closed: Promise<void>
  #chunks: Buffer[] = []
  #length = 0
  #listeners = new Set<() => void>()

  private constructor(socket: Socket) {
    this.socket = socket
    this.closed = new Promise((resolve) => {
      socket.once('end', () => resolve())
      socket.once('close', () => resolve())
    })
    // A server that closes early makes our writes fail: the reply already read is what counts.
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => {
      this.#chunks.push(d)
      this.#length += d.length
      for (const l of this.#listeners) l()
    })
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new RawConnection(socket))
      })
    })
  }

  get received(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)]
    return this.#chunks[0] ?? Buffer.alloc(0)
  }

  get receivedLength(): number {
    return this.#length
  }

  /** Writes and resolves once the bytes are handed to the kernel (false: the connection is gone). */
  write(data: string | Buffer): Promise<boolean> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve(false)
    return new Promise((resolve) => this.socket.write(data, (err) => resolve(!err)))
  }

  /** Waits until `test` holds for what was received. */
  until(
    test: (received: Buffer, length: number) => boolean,
    ms: number,
    what: string,
  ): Promise<void> {
    const reached = new Promise<void>((resolve) => {
      const check = () => {
        if (!test(this.received, this.#length)) return
        this.#listeners.delete(check)
        resolve()
      }
      this.#listeners.add(check)
      check()
    })
    return within(reached, ms, what)
  }

  /** Waits for the server to close, then returns every byte it sent. */
  async readToClose(ms = 5000): Promise<Buffer> {
    await within(this.closed, ms, 'the server closing the connection')
    return this.received
  }

  destroy(): void {
    this.socket.destroy()
  }
}

export interface RawResponse {
  status: number
  /** Header fields in order, names lowercased. */
  headers: [string, string][]
  body: Buffer
  /** All values of a field. */
  all(name: string): string[]
  /** The only value of a field, undefined when absent; throws when repeated. */
  one(name: string): string | undefined
}

/**
 * Reads the responses in `bytes`, one per request method in `methods` (interim
 * 1xx responses come on top), strictly: a body is framed by Content-Length or
 * chunked encoding, never by a HEAD, 1xx, 204 or 304. Throws when anything is
 * cut short; `rest` is what followed the last response.
 */
export function parseResponses(
  bytes: Buffer,
  methods: readonly string[],
): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = []
  let at = 0
  let m = 0
  while (m < methods.length) {
    const end = bytes.indexOf('\r\n\r\n', at)
    if (end < 0) throw new Error(`response ${responses.length + 1}: head cut short`)
    const lines = bytes.subarray(at, end).toString('latin1').split('\r\n')
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0])
    if (!status) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`)
    const headers = lines.slice(1).map((l): [string, string] => {
      const colon = l.indexOf(':')
      return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()]
    })
    const code = Number(status[1])
    at = end + 4
    const all = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v)
    const one = (name: string) => {
      const values = all(name)
      if (values.length > 1) throw new Error(`${name} repeated: ${values.join(' | ')}`)
      return values[0]
    }
    let body: Buffer = Buffer.alloc(0)
    const bodiless = code < 200 || code === 204 || code === 304 || methods[m] === 'HEAD'
    if (!bodiless) {
      const length = one('content-length')
      if (one('transfer-encoding')?.toLowerCase() === 'chunked') {
        const parts: Buffer[] = []
        for (;;) {
          const lineEnd = bytes.indexOf('\r\n', at)
          if (lineEnd < 0) throw new Error('chunk size cut short')
          const size = Number.parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16)
          at = lineEnd + 2
          if (size === 0) {
            // Trailer fields, then the empty line.
            const trailerEnd = bytes.indexOf('\r\n', at)
            if (trailerEnd < 0) throw new Error('trailer cut short')
            at = trailerEnd === at ? at + 2 : bytes.indexOf('\r\n\r\n', at) + 4
            break
          }
          if (at + size + 2 > bytes.length) throw new Error('chunk cut short')
          parts.push(bytes.subarray(at, at + size))
          at += size + 2
        }
        body = Buffer.concat(parts)
      } else if (length !== undefined) {
        if (at + Number(length) > bytes.length) throw new Error('body cut short')
        body = bytes.subarray(at, at + Number(length))
        at += Number(length)
      } else {
        body = bytes.subarray(at)
        at = bytes.length
      }
    }
    responses.push({ status: code, headers, body, all, one })
    if (code >= 200) m++
  }
  return { responses, rest: bytes.subarray(at) }
}

/** Sends `request` on a new connection and reads the one response until the server closes. */
export async function rawExchange(
  port: number,
  request: string | Buffer,
  method = 'GET',
  ms = 5000,
): Promise<{ response: RawResponse; bytes: Buffer }> {
  const conn = await RawConnection.open(port)
  try {
    await conn.write(request)
    const bytes = await conn.readToClose(ms)
    return { response: parseResponses(bytes, [method]).responses[0], bytes }
  } finally {
    conn.destroy()
  }
}
