// The raw-Node ceiling for forwarding: a bare `dgram` relay that remaps IDs to
// one upstream and back. No timeouts, retries or checks: the fastest honest relay.
// usage: node dns-raw-forwarder.ts PORT UPSTREAM_PORT

import { createSocket, type RemoteInfo } from 'node:dgram'

const [port, upstreamPort] = process.argv.slice(2).map(Number)
const pending = new Map<number, { rinfo: RemoteInfo; id: number }>()
let nextId = 0

const upstream = createSocket('udp4')
const server = createSocket('udp4')
server.on('message', (msg, rinfo) => {
  const id = nextId
  nextId = (nextId + 1) & 0xffff
  pending.set(id, { rinfo, id: msg.readUInt16BE(0) })
  msg.writeUInt16BE(id, 0)
  upstream.send(msg, upstreamPort, '127.0.0.1')
})
upstream.on('message', (msg) => {
  const id = msg.readUInt16BE(0)
  const p = pending.get(id)
  if (!p) return
  pending.delete(id)
  msg.writeUInt16BE(p.id, 0)
  server.send(msg, p.rinfo.port, p.rinfo.address)
})
upstream.bind(0, '127.0.0.1', () => server.bind(port, '127.0.0.1', () => console.log('ready')))
process.on('SIGTERM', () => process.exit(0))
