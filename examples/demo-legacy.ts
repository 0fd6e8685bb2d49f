// The demo legacy for the quickstart: a small authoritative DNS server over UDP
// and TCP for people with no legacy system at hand. It serves every zone file
// in examples/zones (REFUSED for anything else). Tests never compare against it:
// they use BIND.

import { createSocket } from 'node:dgram'
import { readdirSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { CLASSIC_UDP_LIMIT, Rcode } from '../dns/constants.ts'
import { createQueryView, Parse, readQuery } from '../dns/query-view.ts'
import { writeRcodeReply } from '../dns/reply.ts'
import { authoritative } from '../modules/authoritative/index.ts'
import type { DnsContext } from '../modules/dns-module.ts'
import type { ModuleLog } from '../modules/env.ts'

export interface DemoLegacy {
  port: number
  stop(): Promise<void>
}

const quiet: ModuleLog = { info() {}, warn() {}, error() {} }

export async function startDemoLegacy(
  host: string,
  port: number,
  zonesDir: string,
): Promise<DemoLegacy> {
  const zones = readdirSync(zonesDir)
    .filter((f) => f.endsWith('.zone'))
    .map((f) => ({ name: f.replace(/\.zone$/, ''), file: join(zonesDir, f) }))
  const server = authoritative({ zones }, { log: quiet, registry: new Registry() })
  const ctx: DnsContext = {
    query: Buffer.alloc(0),
    view: createQueryView(),
    transport: 'udp',
    sizeLimit: CLASSIC_UDP_LIMIT,
    ednsPayload: 1232,
    out: Buffer.alloc(65_535),
    response: Buffer.alloc(0),
    responseLength: 0,
  }
  const answer = (query: Buffer, tcp: boolean): Buffer | undefined => {
    const parsed = readQuery(query, query.length, ctx.view)
    if (parsed === Parse.DROP) return undefined
    ctx.query = query
    ctx.sizeLimit = tcp
      ? 65_535
      : ctx.view.edns
        ? Math.max(ctx.view.ednsUdpSize, CLASSIC_UDP_LIMIT)
        : CLASSIC_UDP_LIMIT
    let length: number
    if (parsed === Parse.FORMERR) length = writeRcodeReply(query, ctx.out, Rcode.FORMERR)
    else if (server.query!(ctx).kind === 'answer') length = ctx.responseLength
    else length = writeRcodeReply(query, ctx.out, Rcode.REFUSED, ctx.view.questionEnd)
    return Buffer.from(ctx.out.subarray(0, length))
  }

  const udp = createSocket('udp4')
  udp.on('message', (msg, rinfo) => {
    const reply = answer(msg, false)
    if (reply) udp.send(reply, rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve) => udp.bind(port, host, resolve))
  const sockets = new Set<Socket>()
  const tcp = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let buf = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const reply = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), true)
        buf = buf.subarray(2 + buf.readUInt16BE(0))
        if (reply)
          socket.write(
            Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]),
          )
      }
    })
    socket.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => tcp.listen(udp.address().port, host, resolve))
  return {
    port: udp.address().port,
    stop: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()))
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
    },
  }
}
