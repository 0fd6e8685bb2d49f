// A steady DNS load for tests that must show nothing is lost: over UDP a window
// of queries in flight on one socket, over TCP a few connections each with one
// query at a time. It counts what it sent and what was answered, and checks
// every answer is the reply to its query.

import { createSocket } from 'node:dgram'
import { connect, type Socket } from 'node:net'
import { Flag, Rcode } from '../../../dns/constants.ts'

export interface DnsLoadCounts {
  sent: number
  answered: number
  /** Replies that were not NOERROR, or did not match their query. */
  wrong: number
  /** UDP queries with no reply within the timeout. */
  unanswered: number
  /** TCP queries sent again on a new connection because the server closed the old one first (RFC 7766 §6.2.4). */
  retried: number
  /** What stopped the load from asking, each message once: a refused TCP connection, a UDP socket error. */
  errors: string[]
}

export interface DnsLoad {
  counts: DnsLoadCounts
  /** Stops sending, waits for what is in flight (bounded by the timeout), and gives the counts; again gives the same. */
  stop(): Promise<DnsLoadCounts>
}

const TIMEOUT_MS = 5000

function newCounts(): DnsLoadCounts {
  return { sent: 0, answered: 0, wrong: 0, unanswered: 0, retried: 0, errors: [] }
}

function noteError(counts: DnsLoadCounts, err: Error): void {
  if (!counts.errors.includes(err.message)) counts.errors.push(err.message)
}

/** Where the (single, uncompressed) question of `query` ends. */
function questionEnd(query: Buffer): number {
  let at = 12
  while (query[at] !== 0) at += query[at] + 1
  return at + 5
}

/** True when `reply` answers `query` (same ID and question, QR set) with NOERROR. */
function answers(query: Buffer, reply: Buffer): boolean {
  if (reply.length < 12 || reply.readUInt16BE(0) !== query.readUInt16BE(0)) return false
  const flags = reply.readUInt16BE(2)
  if (!(flags & Flag.QR) || (flags & 0xf) !== Rcode.NOERROR) return false
  const end = questionEnd(query)
  return reply.subarray(12, end).equals(query.subarray(12, end))
}

/** Copies of `queries` in turn, each with an ID that `inFlight` does not hold. */
export function querySource(
  queries: readonly Buffer[],
): (inFlight: Map<number, unknown>) => Buffer {
  let next = 0
  let nextId = 0
  return (inFlight) => {
    let id = nextId++ & 0xffff
    while (inFlight.has(id)) id = nextId++ & 0xffff
    const query = Buffer.from(queries[next++ % queries.length])
    query.writeUInt16BE(id, 0)
    return query
  }
}

/** Queries `queries` in turn (each given a fresh ID) over UDP, `window` in flight at once. */
export function udpLoad(port: number, queries: readonly Buffer[], window = 16): DnsLoad {
  const counts = newCounts()
  const socket = createSocket('udp4')
  const inFlight = new Map<number, { query: Buffer; timer: NodeJS.Timeout }>()
  const nextQuery = querySource(queries)
  let stopping = false
  let drained: () => void = () => {}

  const settle = (id: number) => {
    const q = inFlight.get(id)
    if (!q) return undefined
    clearTimeout(q.timer)
    inFlight.delete(id)
    if (stopping && inFlight.size === 0) drained()
    else send()
    return q.query
  }
  const send = () => {
    if (stopping) return
    while (inFlight.size < window) {
      const query = nextQuery(inFlight)
      const id = query.readUInt16BE(0)
      const timer = setTimeout(() => {
        counts.unanswered++
        settle(id)
      }, TIMEOUT_MS)
      inFlight.set(id, { query, timer })
      counts.sent++
      socket.send(query, port, '127.0.0.1')
    }
  }
  socket.on('message', (reply) => {
    if (reply.length < 2) return
    const query = settle(reply.readUInt16BE(0))
    if (!query) return
    counts.answered++
    if (!answers(query, reply)) counts.wrong++
  })
  // A failed send is also a query that times out; the error says why.
  socket.on('error', (err) => noteError(counts, err))
  socket.bind(0, '127.0.0.1', send)
  let stopped: Promise<DnsLoadCounts> | undefined
  const stop = async () => {
    stopping = true
    if (inFlight.size > 0) await new Promise<void>((resolve) => (drained = resolve))
    socket.close()
    return counts
  }
  return {
    counts,
    stop() {
      stopped ??= stop()
      return stopped
    },
  }
}

/**
 * Queries over `connections` TCP connections, `window` in flight on each (1:
 * one at a time; more: pipelined, answered in any order, RFC 7766 section 6.2.1.1).
 */
export function tcpLoad(
  port: number,
  queries: readonly Buffer[],
  connections = 4,
  window = 1,
): DnsLoad {
  const counts = newCounts()
  let stopping = false
  const nextQuery = querySource(queries)
  const running: Promise<void>[] = []

  /** One connection's life: ask, and ask again as answers come; on a close, reconnect and ask what was left again. */
  const lane = async () => {
    let pending = new Map<number, Buffer>()
    while (!stopping || pending.size > 0) {
      const socket = connect(port, '127.0.0.1')
      socket.setNoDelay(true)
      const refused = await new Promise<Error | undefined>((resolve) => {
        socket.once('connect', () => resolve(undefined))
        socket.once('error', resolve)
      })
      if (refused) {
        // The listening socket is the supervisor's and never closes: a refusal is a
        // failure, even with no query pending, and this lane asks no more.
        noteError(counts, refused)
        counts.unanswered += pending.size
        return
      }
      pending = await converse(socket, pending)
      socket.destroy()
      counts.retried += pending.size
    }
  }

  /** Sends queries until stopped; resolves with those left unanswered when the server closed. */
  const converse = (socket: Socket, left: Map<number, Buffer>) =>
    new Promise<Map<number, Buffer>>((resolve) => {
      const inFlight = new Map<number, Buffer>()
      let buffered = Buffer.alloc(0)
      const send = (query: Buffer) => {
        inFlight.set(query.readUInt16BE(0), query)
        const framed = Buffer.alloc(2 + query.length)
        framed.writeUInt16BE(query.length, 0)
        query.copy(framed, 2)
        socket.write(framed)
      }
      const fill = () => {
        while (!stopping && inFlight.size < window) {
          counts.sent++
          send(nextQuery(inFlight))
        }
        if (stopping && inFlight.size === 0) resolve(inFlight)
      }
      const timer = setTimeout(() => {
        counts.unanswered += inFlight.size
        resolve(new Map())
      }, TIMEOUT_MS * 4)
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk])
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const reply = buffered.subarray(2, 2 + buffered.readUInt16BE(0))
          buffered = buffered.subarray(2 + reply.length)
          const query = inFlight.get(reply.readUInt16BE(0))
          if (!query) continue
          inFlight.delete(reply.readUInt16BE(0))
          counts.answered++
          if (!answers(query, reply)) counts.wrong++
          timer.refresh()
        }
        fill()
      })
      socket.once('close', () => {
        clearTimeout(timer)
        resolve(inFlight)
      })
      socket.once('error', () => {})
      for (const query of left.values()) send(query)
      fill()
    })

  for (let i = 0; i < connections; i++) running.push(lane())
  let stopped: Promise<DnsLoadCounts> | undefined
  return {
    counts,
    stop() {
      stopping = true
      stopped ??= Promise.all(running).then(() => counts)
      return stopped
    },
  }
}
