// The raw-Node ceilings over TLS, each answering a fixed body: node:https
// (HTTP/1.1), node:http2's secure server on its stream API, or on its
// (req, res) compatibility API, which cutover's engine is served through.
// usage: node tls-hello.ts PORT CERT KEY https|http2|http2-compat

import { readFileSync } from 'node:fs'
import { createSecureServer } from 'node:http2'
import { createServer } from 'node:https'

const [port, certFile, keyFile, protocol] = process.argv.slice(2)
const credentials = { cert: readFileSync(certFile), key: readFileSync(keyFile) }
const body = Buffer.from('hello\n')
const head = { 'content-type': 'text/plain', 'content-length': body.length }

interface Reply {
  writeHead(status: number, headers: typeof head): unknown
  end(body: Buffer): unknown
}
const hello = (_req: unknown, res: Reply) => {
  res.writeHead(200, head)
  res.end(body)
}

const server =
  protocol === 'https'
    ? createServer(credentials, hello)
    : protocol === 'http2-compat'
      ? createSecureServer(credentials, hello)
      : createSecureServer(credentials).on('stream', (stream) => {
          stream.respond({ ':status': 200, ...head })
          stream.end(body)
        })
server.listen(Number(port), '127.0.0.1', () => console.log('ready'))
process.on('SIGTERM', () => process.exit(0))
