// The raw-Node ceiling for HTTP: node:http answering every request with a fixed body.
// usage: node http-hello.ts PORT

import { createServer } from 'node:http'

const body = Buffer.from('hello\n')
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
  res.end(body)
})
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'))
process.on('SIGTERM', () => process.exit(0))
