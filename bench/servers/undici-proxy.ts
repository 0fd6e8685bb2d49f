// The raw undici ceiling for proxying: node:http in, undici Pool.dispatch out,
// headers passed through, bodies streamed with backpressure; no checks.
// usage: node undici-proxy.ts PORT UPSTREAM_URL

import { createServer } from 'node:http'
import { type Dispatcher, Pool } from 'undici'

const pool = new Pool(process.argv[3], { connections: 128 })
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
])

function endToEnd(raw: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2)
    if (!HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1])
  return out
}
const server = createServer((req, res) => {
  const handler: Dispatcher.DispatchHandler = {
    // undici takes a handler for its current API by this method.
    onRequestStart() {},

    onResponseStart(controller, status) {
      if (status < 200) return
      res.writeHead(
        status,
        endToEnd((controller.rawHeaders as Buffer[]).map((b) => b.toString('latin1'))),
      )
    },
    onResponseData(controller, chunk) {
      if (!res.write(chunk)) {
        controller.pause()
        res.once('drain', () => controller.resume())
      }
    },
    onResponseEnd() {
      res.end()
    },
    onResponseError() {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    },
  }
  pool.dispatch(
    {
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers: endToEnd(req.rawHeaders),
      body: req.method === 'GET' ? null : req,
    },
    handler,
  )
})
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'))
process.on('SIGTERM', () => process.exit(0))
