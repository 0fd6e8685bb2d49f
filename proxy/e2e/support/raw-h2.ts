// A raw HTTP/2 client over TLS for what real clients refuse to send: header
// fields HTTP/2 forbids, and the rapid-reset and CONTINUATION-flood shapes.
// It writes frames by hand (HPACK literals without Huffman coding) and reads
// back the frame types, stream ids and error codes the server sends.

import { connect, type TLSSocket } from 'node:tls'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  GOAWAY: 7,
  CONTINUATION: 9,
} as const
export const Flag = { END_STREAM: 1, END_HEADERS: 4 } as const

export interface Frame {
  type: number
  flags: number
  stream: number
  payload: Buffer
}

/** An HTTP/2 frame: 9-byte head, then the payload. */
export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(stream & 0x7fffffff, 5)
  return Buffer.concat([head, payload])
}

/** A header block of literal fields without indexing, new names, no Huffman (RFC 7541 section 6.2.2). */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = []
  const string = (s: string) => {
    const b = Buffer.from(s, 'latin1')
    if (b.length >= 127) throw new Error('raw-h2 writes strings under 127 bytes only')
    return Buffer.concat([Buffer.from([b.length]), b])
  }
  for (const [name, value] of fields) parts.push(Buffer.from([0]), string(name), string(value))
  return Buffer.concat(parts)
}

/** A RST_STREAM frame with `code` (CANCEL is 8). */
export function rstStream(stream: number, code = 8): Buffer {
  const p = Buffer.alloc(4)
  p.writeUInt32BE(code)
  return frame(FrameType.RST_STREAM, 0, stream, p)
}

export interface RawH2 {
  socket: TLSSocket
  frames: Frame[]
  send(...data: Buffer[]): void
  /** Resolves once a frame matches, or rejects after `ms` (or when the connection closes first). */
  until(match: (f: Frame) => boolean, ms: number, what: string): Promise<Frame>
  /** Resolves once the server closed the connection, or rejects after `ms`. */
  closed(ms: number): Promise<void>
  close(): void
}

/** Connects with ALPN h2, sends the preface and an empty SETTINGS, acknowledges the server's. */
export async function rawH2(port: number, servername: string, ca: string): Promise<RawH2> {
  const socket = connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['h2'] })
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve())
    socket.once('error', reject)
  })
  if (socket.alpnProtocol !== 'h2')
    throw new Error(`the server chose ${socket.alpnProtocol}, not h2`)
  const frames: Frame[] = []
  const waiters = new Set<() => void>()
  let buffered = Buffer.alloc(0)
  let ended = false
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    while (buffered.length >= 9) {
      const length = buffered.readUIntBE(0, 3)
      if (buffered.length < 9 + length) break
      const f = {
        type: buffered[3],
        flags: buffered[4],
        stream: buffered.readUInt32BE(5) & 0x7fffffff,
        payload: buffered.subarray(9, 9 + length),
      }
      buffered = buffered.subarray(9 + length)
      frames.push(f)
      if (f.type === FrameType.SETTINGS && (f.flags & 1) === 0 && !socket.destroyed)
        socket.write(frame(FrameType.SETTINGS, 1, 0))
    }
    for (const w of waiters) w()
  })
  const end = () => {
    ended = true
    for (const w of waiters) w()
  }
  socket.on('close', end)
  socket.on('error', () => socket.destroy())
  socket.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0)]))
  /** Waits for `state()` to say 'done' (or 'failed' with why), for at most `ms`. */
  const wait = (state: () => true | string | undefined, ms: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        const now = state()
        if (now === undefined) return
        clearTimeout(timer)
        waiters.delete(check)
        if (now === true) resolve()
        else reject(new Error(`${what}: ${now}`))
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`${what}: not within ${ms} ms`))
      }, ms)
      waiters.add(check)
      check()
    })
  return {
    socket,
    frames,
    send: (...data) => {
      if (!socket.destroyed) socket.write(Buffer.concat(data))
    },
    async until(match, ms, what) {
      let found: Frame | undefined
      await wait(
        () => {
          found = frames.find(match)
          if (found !== undefined) return true
          return ended ? 'the connection closed first' : undefined
        },
        ms,
        what,
      )
      return found!
    },
    closed: (ms) => wait(() => (ended ? true : undefined), ms, 'the server closing the connection'),
    close: () => socket.destroy(),
  }
}
