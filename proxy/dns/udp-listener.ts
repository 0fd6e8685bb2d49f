// The DNS-over-UDP listener: one socket, each datagram handed to the engine and
// answered from the same socket. Sends copy the response into a pooled buffer,
// since a send may be queued after the engine reuses its scratch space. With
// the PROXY protocol on, each datagram starts with a version 2 header (as
// dnsdist sends them), from a trusted peer; the reply goes back bare.

import type { RemoteInfo, Socket } from 'node:dgram'
import { setTimeout as delay } from 'node:timers/promises'
import { createUdpSocket } from '../../legacy-adapter/udp-socket.ts'
import type { Path } from '../../rollout/scope.ts'
import type { HostPort } from '../config/units.ts'
import type { ListenRole } from '../net/listen-sockets.ts'
import { parseProxyHeader } from '../net/proxy-protocol.ts'
import type { ProxyProtocolIntake } from '../net/proxy-protocol-intake.ts'
import type { SocketSource } from '../net/socket-source.ts'
import type { DnsEngine, DnsReplier } from './engine.ts'

/**
 * Stops reading a UDP socket but keeps it for sending. Node has no public way;
 * its socket's handle has recvStop. False when that is not there.
 */
function stopReceiving(socket: Socket): boolean {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol')
  const handle =
    key &&
    (socket as unknown as Record<symbol, { handle?: { recvStop?: () => void } }>)[key]?.handle
  if (typeof handle?.recvStop !== 'function') return false
  handle.recvStop()
  return true
}

export class DnsUdpListener implements DnsReplier<RemoteInfo> {
  readonly #socket: Socket
  /** The engine queries go to; replaced whole on reload. */
  engine: DnsEngine
  #closed = false
  #port = 0

  /**
   * `force`: the candidate listener's path for every query (the diff harness's
   * view of the new path). `proxyProtocol`: every datagram starts with a PROXY
   * protocol version 2 header, from a trusted peer.
   */
  constructor(engine: DnsEngine, ipv6: boolean, force?: Path, proxyProtocol?: ProxyProtocolIntake) {
    this.engine = engine
    this.#socket = createUdpSocket(ipv6)
    this.#socket.on(
      'message',
      proxyProtocol
        ? (msg, rinfo) => this.#proxied(msg, rinfo, proxyProtocol, force)
        : (msg, rinfo) => this.engine.handle(msg, 'udp', rinfo.address, rinfo, this, force),
    )
    // A send error (e.g. ICMP unreachable reported late) concerns one client only.
    this.#socket.on('error', () => {})
  }

  /** A datagram behind a version 2 header: the query is what follows, from the client it names. */
  #proxied(msg: Buffer, rinfo: RemoteInfo, intake: ProxyProtocolIntake, force?: Path): void {
    const header = intake.trusted.has(rinfo.address) ? parseProxyHeader(msg) : undefined
    // Version 2 only (its first byte): a datagram is whole, so anything but a header and a query is refused.
    if (header?.kind !== 'header' || msg[0] !== 0x0d || header.length >= msg.length) {
      intake.refused.inc()
      return
    }
    const query = msg.subarray(header.length)
    this.engine.handle(query, 'udp', header.source ?? rinfo.address, rinfo, this, force)
  }

  async listen(
    at: HostPort,
    sockets: SocketSource,
    role: ListenRole,
    receiveBuffer = 0,
  ): Promise<void> {
    this.#port = await sockets.bind(this.#socket, role, at)
    this.setReceiveBuffer(receiveBuffer)
  }

  /** SO_RCVBUF in bytes; 0 leaves it as it is. The socket is shared: every worker sets the same. */
  setReceiveBuffer(bytes: number): void {
    if (bytes > 0 && !this.#closed) this.#socket.setRecvBufferSize(bytes)
  }

  get port(): number {
    return this.#port
  }

  sendReply(peer: RemoteInfo, buf: Buffer, length: number): void {
    // A legacy reply may arrive after the listener closed: its client is gone.
    if (this.#closed) return
    const copy = Buffer.allocUnsafe(length)
    buf.copy(copy, 0, 0, length)
    this.#socket.send(copy, 0, length, peer.port, peer.address)
  }

  dropped(): void {}

  /**
   * Stops reading: datagrams not read yet stay in the shared socket for the
   * other workers. Queries already read are answered as their legacy replies
   * come back (`pending()` reaches 0), then the socket closes.
   */
  async drain(deadlineMs: number, pending: () => number): Promise<number> {
    // Without recvStop this worker keeps answering until the deadline: slower, but nothing read is lost.
    stopReceiving(this.#socket)
    const deadline = Date.now() + deadlineMs
    while (pending() > 0 && Date.now() < deadline) await delay(10)
    const cut = pending()
    await this.close()
    return cut
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    return new Promise((resolve) => this.#socket.close(() => resolve()))
  }
}
