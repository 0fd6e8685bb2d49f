// HTTP/1.0 clients, as old tools and health checkers still are: each request
// on a connection of its own, read until the server closes it. Counts what was
// asked and how each ended, so a test can show none was lost.

import { connect } from 'node:net'

export interface Http10Counts {
  sent: number
  ok: number
  /** Connections refused or reset, responses cut short, or none within the timeout. */
  failed: number
  failures: string[]
}

const TIMEOUT_MS = 10_000

/** `lanes` clients asking `GET /` of `host` on `port` one after another until stopped. */
export function http10Load(port: number, host: string, lanes = 4) {
  const counts: Http10Counts = { sent: 0, ok: 0, failed: 0, failures: [] }
  let stopping = false
  const fail = (why: string) => {
    counts.failed++
    if (!counts.failures.includes(why)) counts.failures.push(why)
  }
  const once = () =>
    new Promise<void>((resolve) => {
      counts.sent++
      const socket = connect(port, '127.0.0.1')
      let response = ''
      let failed = false
      const failOnce = (why: string) => {
        if (!failed) fail(why)
        failed = true
      }
      socket.setTimeout(TIMEOUT_MS, () => {
        failOnce('no response within 10 s')
        socket.destroy()
      })
      socket.on('connect', () => socket.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`))
      socket.on('data', (d) => {
        response += d
      })
      socket.on('error', (err) => failOnce(err.message))
      socket.on('close', () => {
        if (/^HTTP\/1\.[01] 200 /.test(response) && response.includes('\r\n\r\n')) counts.ok++
        else
          failOnce(
            response === ''
              ? 'closed with no response'
              : `unexpected response: ${response.split('\r\n')[0]}`,
          )
        resolve()
      })
    })
  const running = Array.from({ length: lanes }, async () => {
    while (!stopping) await once()
  })
  return {
    counts,
    async stop(): Promise<Http10Counts> {
      stopping = true
      await Promise.all(running)
      return counts
    },
  }
}
