// The raw-Node ceiling for DNS: a bare `dgram` responder that finds the end of the
// question, looks the question up in a Map of precomputed answers and sends one
// back with the query's ID. No validation beyond bounds: the fastest honest server.
// usage: node dns-ceiling.ts PORT ANSWERS.json [--literal]
// --literal: send with a resolver hook that takes the IP literal at once (as cutover
// does) instead of Node's default, which defers every send by a tick.

import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'

const [port, answersFile, mode] = process.argv.slice(2)
const answers = new Map<string, Buffer>()
for (const a of JSON.parse(readFileSync(answersFile, 'utf8')) as {
  key: string
  response: string
}[]) {
  answers.set(a.key, Buffer.from(a.response, 'hex'))
}

const socket =
  mode === '--literal'
    ? createSocket({
        type: 'udp4',
        lookup: (address, _family, callback) => callback(null, address, 4),
      })
    : createSocket('udp4')

socket.on('message', (msg, rinfo) => {
  let pos = 12
  while (pos < msg.length && msg[pos] !== 0) pos += msg[pos] + 1
  if (pos + 5 > msg.length) return
  const answer = answers.get(msg.toString('latin1', 12, pos + 5).toLowerCase())
  if (!answer) return
  const out = Buffer.from(answer)
  out[0] = msg[0]
  out[1] = msg[1]
  socket.send(out, rinfo.port, rinfo.address)
})
socket.bind(Number(port), '127.0.0.1', () => console.log('ready'))
process.on('SIGTERM', () => socket.close(() => process.exit(0)))
