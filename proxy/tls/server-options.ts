// What every TLS listener (HTTPS, DNS over TLS) is made with: the certificate
// chosen by SNI from the store serving now, the lowest TLS version allowed, a
// bound on the handshake, and the session ticket keys the workers share.

import type { TlsOptions, Server as TlsServer } from 'node:tls'
import type { CertificateStore } from './certificates.ts'

export interface TlsListenerOptions {
  /** The certificates served now; a reload swaps the store, not the listener. */
  certificates: () => CertificateStore
  minVersion: 'TLSv1.2' | 'TLSv1.3'
  handshakeTimeoutMs: number
  /** Session ticket keys (48 bytes) shared by every worker, when the supervisor gives them. */
  ticketKeys: Buffer | undefined
}

export function tlsServerOptions(o: TlsListenerOptions, alpn: string[]): TlsOptions {
  return {
    // The server's own context: what a client that sends no SNI gets.
    ...o.certificates().fallback.pem,
    SNICallback: (name, done) => done(null, o.certificates().contextFor(name)),
    ALPNProtocols: alpn,
    minVersion: o.minVersion,
    handshakeTimeout: o.handshakeTimeoutMs,
    ticketKeys: o.ticketKeys,
    noDelay: true,
  }
}

/**
 * Keeps `server`'s own context on the store's fallback certificate after a
 * reload swaps the store: checked as each connection arrives, before the TLS
 * socket is made from that context.
 */
export function followCertificates(server: TlsServer, o: TlsListenerOptions): void {
  let served = o.certificates()
  server.prependListener('connection', () => {
    const now = o.certificates()
    if (now === served) return
    served = now
    // The context is made again from these options only: the rest must be given again too.
    server.setSecureContext({
      ...now.fallback.pem,
      minVersion: o.minVersion,
      ticketKeys: server.getTicketKeys(),
    })
  })
}
