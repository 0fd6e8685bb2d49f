// An HTTP/2 load for the restart tests: sessions keeping streams in flight,
// asking again on a new session only what the server said it did not process
// (after GOAWAY's last stream id, or REFUSED_STREAM), as real clients do.

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as connectHttp2,
  constants as http2,
} from 'node:http2'
import { MAX_ATTEMPTS, pace, type Spent, STALL_MS } from './load-pace.ts'
import { LEGACY_HOST, NEW_HOST } from './restart-load.ts'

export interface H2Counts {
  /** Requests asked; one sent again after a refusal counts once. */
  sent: number
  /** Streams answered 200, the whole body read. */
  ok: number
  non200: number
  /** Requests that got no answer (reset, cut, timed out, refused too often), and session errors. */
  errors: number
  /** Each kind of error once, to say what went wrong. */
  errorKinds: string[]
  /** Streams sent again on a new session because the server said it had not processed them. */
  retried: number
  /** GOAWAY frames received. */
  goaways: number
}

export interface H2Load {
  /** Stops asking, lets the streams in flight end, closes the sessions; gives the counts. */
  stop(): Promise<H2Counts>
  counts: H2Counts
}

/**
 * HTTP/2 to `url` over TLS, verified against `ca`, `perSecond` new requests a
 * second: for each of NEW_HOST and LEGACY_HOST (its SNI name and :authority)
 * `sessions` sessions, each with up to `streams` GETs of / in flight. A session
 * that gets GOAWAY asks nothing more on it; its streams the server did not
 * process (past GOAWAY's last stream id, or reset with REFUSED_STREAM) are sent
 * again on a new session, as real HTTP/2 clients do (RFC 9113 §8.7); every
 * other stream without an answer is an error.
 */
export function h2Load(
  url: string,
  ca: string,
  perSecond: number,
  sessions = 2,
  streams = 8,
): H2Load {
  const counts: H2Counts = {
    sent: 0,
    ok: 0,
    non200: 0,
    errors: 0,
    errorKinds: [],
    retried: 0,
    goaways: 0,
  }
  const paced = pace(perSecond)
  const fail = (kind: string, n = 1) => {
    counts.errors += n
    if (!counts.errorKinds.includes(kind)) counts.errorKinds.push(kind)
  }

  /**
   * One session's life: streams in flight (those `carried` from the last
   * session first) until GOAWAY, a close or a stop; resolves, once none is in
   * flight, with the attempt counts of the requests to send again.
   */
  const converse = (session: ClientHttp2Session, host: string, carried: number[]) =>
    new Promise<Spent<number>>((resolve) => {
      const again: number[] = []
      let answered = false
      let inFlight = 0
      let lastStreamId = Number.POSITIVE_INFINITY
      let over = false
      let settled = false
      const notProcessed = (stream: ClientHttp2Stream) =>
        stream.id === undefined ||
        stream.id > lastStreamId ||
        stream.rstCode === http2.NGHTTP2_REFUSED_STREAM
      const ask = (attempts: number) => {
        inFlight++
        const stream = session.request({ ':path': '/', ':authority': host }, { endStream: true })
        let status = 0
        let ended = false
        let timedOut = false
        stream.on('response', (head) => {
          status = Number(head[':status'])
        })
        stream.on('data', () => {})
        stream.on('end', () => {
          ended = true
        })
        // Its outcome is read when it closes.
        stream.on('error', () => {})
        stream.setTimeout(STALL_MS, () => {
          timedOut = true
          stream.close(http2.NGHTTP2_CANCEL)
        })
        stream.on('close', () => {
          inFlight--
          // A stream cut under its response ends too, without a status.
          if (ended && status !== 0) answered = true
          if (ended && status === 200) counts.ok++
          else if (ended && status !== 0) counts.non200++
          else if (status === 0 && !timedOut && notProcessed(stream)) {
            if (attempts + 1 < MAX_ATTEMPTS) again.push(attempts + 1)
            else fail(`refused ${MAX_ATTEMPTS} times`)
          } else fail(timedOut ? 'stream timed out' : `stream closed with code ${stream.rstCode}`)
          fill()
        })
      }
      const fill = () => {
        while (
          !over &&
          !session.closed &&
          inFlight < streams &&
          (carried.length > 0 || (!paced.stopping && paced.take(fill)))
        ) {
          const attempts = carried.shift()
          if (attempts === undefined) counts.sent++
          else counts.retried++
          ask(attempts ?? 0)
        }
        if (inFlight === 0 && (over || paced.stopping) && !settled) {
          settled = true
          resolve({ left: [...carried, ...again], answered })
        }
      }
      session.on('goaway', (_code, last) => {
        counts.goaways++
        lastStreamId = last
        over = true
      })
      session.on('close', () => {
        over = true
        fill()
      })
      fill()
    })

  /** Sessions one after another for `host`, until stopped and nothing is left to send again. */
  const lane = async (host: string) => {
    let carried: number[] = []
    let barren = 0
    while (!paced.stopping || carried.length > 0) {
      const session = connectHttp2(url, { ca, servername: host })
      session.on('error', (err) => fail(`session: ${err.message}`))
      const closed = new Promise<void>((resolve) => session.once('close', resolve))
      const connected = await Promise.race([
        new Promise<boolean>((resolve) => session.once('connect', () => resolve(true))),
        closed.then(() => false),
      ])
      if (!connected) {
        // The listening socket is the supervisor's and never closes: a refusal is a failure.
        fail('session did not connect', carried.length + 1)
        return
      }
      const spent = await converse(session, host, carried)
      carried = spent.left
      session.close()
      await closed
      barren = spent.answered ? 0 : barren + 1
      if (barren === MAX_ATTEMPTS) {
        fail(`${MAX_ATTEMPTS} sessions in a row answered nothing`, carried.length)
        return
      }
    }
  }

  const running = [NEW_HOST, LEGACY_HOST].flatMap((host) =>
    Array.from({ length: sessions }, () => lane(host)),
  )
  let stopped: Promise<H2Counts> | undefined
  return {
    counts,
    stop() {
      paced.stop()
      stopped ??= Promise.all(running).then(() => counts)
      return stopped
    },
  }
}
