// Connections that begin with a PROXY protocol header: taken from trusted peers
// only, the header read within a deadline and bounded, the client it names kept
// on the socket for whoever serves it. Anything else closes the connection, counted.

import { createServer, type Server as NetServer, type Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import type { Registry } from 'prom-client'
import { counterSeries, type SeriesCount } from '../../modules/shared/registered-metrics.ts'
import { parseProxyHeader } from './proxy-protocol.ts'
import type { TrustedProxies } from './trusted-proxies.ts'

export interface ProxyProtocolIntake {
  /** Whose headers are believed; replaced on reload. */
  trusted: TrustedProxies
  /** A peer that has not sent its whole header by then is cut. */
  timeoutMs: number
  /** Connections (or datagrams) refused: untrusted peer, header missing, garbled or too slow. */
  refused: SeriesCount
}

/** The listeners that may take the PROXY protocol, as the refusal counter names them. */
export const PROXIED_LISTENERS = ['http', 'https', 'dns-udp', 'dns-tcp', 'dns-tls'] as const
export type ProxiedListener = (typeof PROXIED_LISTENERS)[number]

/** cutover_proxy_protocol_refused_total{listener}, made once per registry. */
export function proxyProtocolRefused(registry: Registry): Record<ProxiedListener, SeriesCount> {
  return counterSeries(
    registry,
    'cutover_proxy_protocol_refused_total',
    'Connections closed (datagrams dropped) on a PROXY protocol listener: peer not in trustedProxies, header missing, garbled or too slow',
    'listener',
    PROXIED_LISTENERS,
  )
}

const CLIENT = Symbol('cutover.client')
type Named = { [CLIENT]?: string; remoteAddress?: string }

/**
 * The client a connection speaks for: the one its PROXY header named, else its
 * peer. Works through the socket an HTTP/2 request shows (it passes reads on).
 */
export function clientOf(socket: object): string {
  const s = socket as Named
  return s[CLIENT] ?? s.remoteAddress ?? ''
}

/** Names the client `socket` speaks for (one handed over from another worker keeps its own). */
export function nameClient(socket: object, client: string): void {
  ;(socket as Named)[CLIENT] = client
}

/** Reads the header off `socket`, then hands it, at its first byte of data, to `serve`. */
export function takeProxied(
  socket: Socket,
  intake: ProxyProtocolIntake,
  serve: (socket: Socket) => void,
): void {
  if (!intake.trusted.has(socket.remoteAddress ?? '')) {
    refuse(socket, intake)
    return
  }
  let buffered: Buffer | undefined
  const timer = setTimeout(() => refuse(socket, intake), intake.timeoutMs)
  const done = () => {
    clearTimeout(timer)
    socket.off('readable', onReadable)
  }
  const onReadable = () => {
    for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read()) {
      buffered = buffered === undefined ? chunk : Buffer.concat([buffered, chunk])
      // Bounded: a version 1 header is invalid past 107 bytes, a version 2 one is whole at its length.
      const header = parseProxyHeader(buffered)
      if (header.kind === 'incomplete') continue
      done()
      if (header.kind === 'invalid') {
        refuse(socket, intake)
        return
      }
      if (header.source !== undefined) nameClient(socket, header.source)
      if (buffered.length > header.length) socket.unshift(buffered.subarray(header.length))
      serve(socket)
      return
    }
  }
  socket.on('readable', onReadable)
  socket.once('close', done)
  socket.on('error', () => socket.destroy())
}

function refuse(socket: Socket, intake: ProxyProtocolIntake): void {
  intake.refused.inc()
  socket.destroy()
}

/** Clients named on raw connections, until the TLS socket over each takes its own (by the connection's ends). */
const beforeTls = new Map<string, string>()

const endsOf = (s: Socket): string => `${s.remoteAddress} ${s.remotePort} ${s.localPort}`

/** Hands `raw`'s client to the TLS socket a TLS server will make over it (see `claimTls`). */
export function passToTls(raw: Socket): void {
  const client = (raw as Named)[CLIENT]
  if (client === undefined) return
  const key = endsOf(raw)
  beforeTls.set(key, client)
  raw.once('close', () => beforeTls.delete(key))
}

/** The TLS socket takes the client its raw connection was named with, if any. */
export function claimTls(tls: Socket): void {
  if (beforeTls.size === 0) return
  const key = endsOf(tls)
  const client = beforeTls.get(key)
  if (client === undefined) return
  nameClient(tls, client)
  beforeTls.delete(key)
}

/**
 * A server in front of `inner` (an HTTP, TLS or DNS server that does not
 * listen itself): it reads each connection's header and hands the connection,
 * at its first byte of data, to `inner` as one of its own.
 */
export function proxiedServer(inner: NetServer, intake: ProxyProtocolIntake): NetServer {
  const overTls = inner instanceof TlsServer
  return createServer({ noDelay: true }, (raw) =>
    takeProxied(raw, intake, (socket) => {
      if (overTls) passToTls(socket)
      inner.emit('connection', socket)
    }),
  )
}
