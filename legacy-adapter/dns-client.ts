// A plain DNS client for tools and tests: one query, one reply, over UDP or TCP,
// with a timeout. Not the forwarder (no pooling, no retries); the differential
// harness and health tools use it to ask a server directly.

import { connect } from 'node:net'
import { CutoverError } from '../common/cutover-error.ts'
import { createUdpSocket } from './udp-socket.ts'

export interface DnsTarget {
  host: string
  port: number
}

/** Sends `query` and resolves with the reply whose ID matches; rejects on timeout. */
export function exchange(
  target: DnsTarget,
  query: Buffer,
  transport: 'udp' | 'tcp',
  timeoutMs = 2000,
): Promise<Buffer> {
  return transport === 'udp'
    ? exchangeUdp(target, query, timeoutMs)
    : exchangeTcp(target, query, timeoutMs)
}

function timeoutError(target: DnsTarget, transport: string, timeoutMs: number): CutoverError {
  return new CutoverError(
    'UPSTREAM_TIMEOUT',
    `no DNS reply from ${target.host}:${target.port} over ${transport} within ${timeoutMs} ms`,
  )
}

function exchangeUdp(target: DnsTarget, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createUdpSocket(target.host.includes(':'))
    const timer = setTimeout(() => {
      socket.close()
      reject(timeoutError(target, 'UDP', timeoutMs))
    }, timeoutMs)
    socket.on('message', (msg, rinfo) => {
      if (
        rinfo.port !== target.port ||
        msg.length < 2 ||
        msg.readUInt16BE(0) !== query.readUInt16BE(0)
      )
        return
      clearTimeout(timer)
      socket.close()
      resolve(msg)
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      socket.close()
      reject(
        new CutoverError(
          'UPSTREAM_UNREACHABLE',
          `DNS over UDP to ${target.host}:${target.port}: ${err.message}`,
          { cause: err },
        ),
      )
    })
    socket.send(query, target.port, target.host)
  })
}

function exchangeTcp(target: DnsTarget, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port })
    let buf = Buffer.alloc(0)
    const fail = (err: Error) => {
      socket.destroy()
      reject(err)
    }
    socket.setTimeout(timeoutMs, () => fail(timeoutError(target, 'TCP', timeoutMs)))
    socket.on('error', (err) =>
      fail(
        new CutoverError(
          'UPSTREAM_UNREACHABLE',
          `DNS over TCP to ${target.host}:${target.port}: ${err.message}`,
          { cause: err },
        ),
      ),
    )
    socket.on('close', () =>
      fail(
        new CutoverError(
          'UPSTREAM_BAD_REPLY',
          `${target.host}:${target.port} closed the TCP connection without a reply`,
        ),
      ),
    )
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return
      socket.removeAllListeners('close')
      socket.destroy()
      resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)))
    })
    const frame = Buffer.alloc(query.length + 2)
    frame.writeUInt16BE(query.length, 0)
    query.copy(frame, 2)
    socket.write(frame)
  })
}
