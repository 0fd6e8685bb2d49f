// A DNS-over-TLS load for the restart tests: connections with queries in
// flight, asking again on a new connection only what was not answered when
// the server closed one.

import { connect as connectTls, type TLSSocket } from 'node:tls'
import { Flag, Rcode } from '../../../dns/constants.ts'
import { decodeMessage } from '../../../dns/message.ts'
import { type DnsLoad, type DnsLoadCounts, querySource } from './dns-load.ts'
import { MAX_ATTEMPTS, pace, type Spent, STALL_MS } from './load-pace.ts'
import { queries } from './restart-load.ts'

/** True when `reply` answers `query` (same ID and question, QR set) with NOERROR. */
function answers(query: Buffer, reply: Buffer): boolean {
  const [q] = decodeMessage(query).questions
  try {
    const r = decodeMessage(reply)
    return (
      r.id === query.readUInt16BE(0) &&
      (r.flags & Flag.QR) !== 0 &&
      r.rcode === Rcode.NOERROR &&
      r.questions.length === 1 &&
      r.questions[0].name === q.name &&
      r.questions[0].type === q.type
    )
  } catch {
    return false
  }
}

/**
 * DNS over TLS on `port`, verified against `ca` for `servername`, `perSecond`
 * new queries a second (`queries` in turn, fresh IDs) over `connections`
 * connections, each with up to `window` in flight. When the server closes a
 * connection the queries it left unanswered are sent again on a new one
 * (RFC 7766 §6.2.4), and only those.
 */
export function dotLoad(
  port: number,
  tls: { ca: string; servername: string },
  perSecond: number,
  connections = 4,
  window = 8,
): DnsLoad {
  const counts: DnsLoadCounts = {
    sent: 0,
    answered: 0,
    wrong: 0,
    unanswered: 0,
    retried: 0,
    errors: [],
  }
  const paced = pace(perSecond)
  const nextQuery = querySource(queries)

  /** Asks on `socket` until stopped or closed; resolves with the queries left unanswered when the server closed. */
  const converse = (socket: TLSSocket, carried: Buffer[]) =>
    new Promise<Spent<Buffer>>((resolve) => {
      const inFlight = new Map<number, Buffer>()
      let buffered = Buffer.alloc(0)
      let answered = false
      let settled = false
      const settle = (left: Buffer[]) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve({ left, answered })
      }
      const send = (query: Buffer) => {
        inFlight.set(query.readUInt16BE(0), query)
        const length = Buffer.alloc(2)
        length.writeUInt16BE(query.length)
        socket.write(Buffer.concat([length, query]))
      }
      const fill = () => {
        while (
          !settled &&
          !socket.writableEnded &&
          inFlight.size < window &&
          (carried.length > 0 || (!paced.stopping && paced.take(fill)))
        ) {
          const again = carried.shift()
          if (again) {
            counts.retried++
            send(again)
            continue
          }
          counts.sent++
          send(nextQuery(inFlight))
        }
        if (paced.stopping && inFlight.size === 0 && carried.length === 0) settle([])
      }
      const timer = setTimeout(() => {
        counts.unanswered += inFlight.size + carried.length
        socket.destroy()
        settle([])
      }, STALL_MS)
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk])
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const reply = buffered.subarray(2, 2 + buffered.readUInt16BE(0))
          buffered = buffered.subarray(2 + reply.length)
          const query = inFlight.get(reply.readUInt16BE(0))
          if (!query) {
            counts.wrong++
            continue
          }
          inFlight.delete(reply.readUInt16BE(0))
          answered = true
          counts.answered++
          if (!answers(query, reply)) counts.wrong++
          timer.refresh()
        }
        fill()
      })
      socket.once('close', () => settle([...carried, ...inFlight.values()]))
      socket.on('error', () => {})
      fill()
    })

  /** Connections one after another, until stopped and nothing is left to ask again. */
  const lane = async () => {
    let carried: Buffer[] = []
    let barren = 0
    while (!paced.stopping || carried.length > 0) {
      const socket = connectTls({
        host: '127.0.0.1',
        port,
        ca: tls.ca,
        servername: tls.servername,
        ALPNProtocols: ['dot'],
      })
      socket.setNoDelay(true)
      const refused = await new Promise<Error | undefined>((resolve) => {
        socket.once('secureConnect', () => resolve(undefined))
        socket.once('error', resolve)
      })
      if (refused) {
        // The listening socket is the supervisor's and never closes: a refusal is a failure.
        if (!counts.errors.includes(refused.message)) counts.errors.push(refused.message)
        counts.unanswered += carried.length
        socket.destroy()
        return
      }
      const closed = new Promise<void>((resolve) => socket.once('close', resolve))
      const spent = await converse(socket, carried)
      carried = spent.left
      socket.end()
      await closed
      barren = spent.answered ? 0 : barren + 1
      if (barren === MAX_ATTEMPTS) {
        const why = `${MAX_ATTEMPTS} connections in a row answered nothing`
        if (!counts.errors.includes(why)) counts.errors.push(why)
        counts.unanswered += carried.length
        return
      }
    }
  }

  const running = Array.from({ length: connections }, lane)
  let stopped: Promise<DnsLoadCounts> | undefined
  return {
    counts,
    stop() {
      paced.stop()
      stopped ??= Promise.all(running).then(() => counts)
      return stopped
    },
  }
}
