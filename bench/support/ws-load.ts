// A WebSocket echo load: connections that each send their next message as soon
// as the echo of the last one arrives, for a number of seconds. `wsLoad` runs
// this file pinned to a core; run as a script, it prints one JSON LoadResult.

import { type RawData, WebSocket } from 'ws'
import { type LoadResult, percentile } from './measure.ts'
import { runPinned } from './pinned.ts'

const MESSAGE = Buffer.alloc(32, 'x')

/** Drives `url` (ws://) with Host `host` from `connections` connections on `core` for `seconds`. */
export async function wsLoad(
  core: number,
  url: string,
  host: string,
  seconds: number,
  connections = 50,
): Promise<LoadResult> {
  const out = await runPinned(core, process.execPath, [
    import.meta.filename,
    url,
    host,
    String(seconds),
    String(connections),
  ])
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as LoadResult
}

function open(url: string, host: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { host }, perMessageDeflate: false })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

/** Ping-pong on one socket until `end`; each round trip's time goes to `latencies`. Resolves with its errors. */
function pingPong(ws: WebSocket, end: number, latencies: number[]): Promise<number> {
  return new Promise((resolve) => {
    let errors = 0
    let sentAt = 0
    const done = (more: number) => {
      ws.off('message', echoed)
      ws.off('close', closed)
      resolve(errors + more)
    }
    const next = () => {
      if (performance.now() >= end) return done(0)
      sentAt = performance.now()
      ws.send(MESSAGE)
    }
    const echoed = (data: RawData) => {
      latencies.push(performance.now() - sentAt)
      if ((data as Buffer).length !== MESSAGE.length) errors++
      next()
    }
    // A socket closed early counts once and stops.
    const closed = () => done(1)
    ws.on('message', echoed)
    ws.on('close', closed)
    next()
  })
}

async function run(
  url: string,
  host: string,
  seconds: number,
  connections: number,
): Promise<LoadResult> {
  const sockets = await Promise.all(Array.from({ length: connections }, () => open(url, host)))
  const latencies: number[] = []
  const start = performance.now()
  const errors = await Promise.all(
    sockets.map((ws) => pingPong(ws, start + seconds * 1000, latencies)),
  )
  const elapsed = (performance.now() - start) / 1000
  for (const ws of sockets) ws.terminate()
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / elapsed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors: errors.reduce((a, b) => a + b, 0),
  }
}

if (import.meta.main) {
  const [url, host, seconds, connections] = process.argv.slice(2)
  // A socket whose echo never comes must not hold the bench for ever.
  setTimeout(
    () => {
      console.error(`no end within ${Number(seconds) + 10} s: an echo never came`)
      process.exit(1)
    },
    (Number(seconds) + 10) * 1000,
  ).unref()
  console.log(JSON.stringify(await run(url, host, Number(seconds), Number(connections))))
  process.exit(0)
}
