// The TLS parts of the config: the certificates the HTTPS and DNS-over-TLS
// listeners present (one store, chosen by SNI), session tickets, and how cutover
// reaches an upstream over https:// (verification, SNI, client certificate).

import { z } from 'zod'
import { duration } from '../../common/units.ts'
import { hostPort } from './units.ts'

const pemFile = z.string().min(1, 'expected the path of a PEM file')

/** A certificate as the rest of cutover sees it: its files (made by cutover when `selfSigned`). */
export interface CertificateSource {
  cert: string
  key: string
  chain?: string
  /** The names of a certificate cutover makes itself. */
  selfSigned?: string[]
}

const certificateFiles = z
  .strictObject({
    /** The leaf certificate, optionally followed by its chain, PEM. */
    cert: pemFile,
    /** Its private key, PEM. */
    key: pemFile,
    /** Intermediate certificates, PEM, when not already after the leaf in `cert`. */
    chain: pemFile.optional(),
  })
  .transform((c): CertificateSource => c)

/**
 * A certificate cutover makes itself for these names (self-signed, in the
 * state folder, on first need) and keeps: for trying it out, and for clients
 * that are told to trust it; a real site lists its own files.
 */
const selfSigned = z
  .strictObject({
    selfSigned: z
      .array(
        z
          .string()
          .regex(
            /^(\*\.)?[a-z0-9.-]+$/i,
            'expected a DNS name like shop.example.test or *.example.test',
          ),
      )
      .min(1)
      .max(50),
  })
  // Where the files are is known once the state folder is (config.ts).
  .transform((c): CertificateSource => ({ cert: '', key: '', selfSigned: c.selfSigned }))

const certificate = z.union([certificateFiles, selfSigned], {
  error: 'expected { cert, key } (PEM files, with an optional chain) or { selfSigned: [names] }',
})

export const tlsSettings = z.strictObject({
  /**
   * Chosen by the name a client asks for (SNI), exact names before wildcards;
   * a client that names nothing, or nothing listed, gets `default` (the first).
   */
  certificates: z
    .array(certificate)
    .min(1, 'list at least one certificate: { cert, key }, or { selfSigned: [names] }'),
  /** Index in `certificates` of the one for clients whose name matches none. */
  default: z.int().min(0).default(0),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  /** How long a session ticket key encrypts new tickets before the next one takes over. */
  ticketRotation: duration.default(12 * 3600_000),
  /** Handshakes that take longer are cut. */
  handshakeTimeout: duration.default(10_000),
})

/** The HTTPS listener: HTTP/1.1 and HTTP/2 (ALPN) on its own address. */
export const httpTlsListener = z.strictObject({
  listen: hostPort,
  /** Offer HTTP/2 by ALPN (`h2`); off: HTTP/1.1 only. */
  http2: z.boolean().default(true),
  /** HTTP/2 streams one client connection may have open at once. */
  maxConcurrentStreams: z.int().min(1).max(1000).default(100),
})

/** The DNS-over-TLS listener (RFC 7858), served as DNS over TCP is. */
export const dnsTlsListener = z.strictObject({
  listen: hostPort,
})

/** How an upstream reached over https:// is checked, and what cutover shows it. */
export const upstreamTls = z
  .strictObject({
    /** The name sent as SNI and checked against its certificate (default: the URL's host). */
    servername: z.string().min(1).optional(),
    /** CA certificates (PEM) to verify it with, instead of the system's. */
    ca: pemFile.optional(),
    /** Skip verification. Only for tests: anyone on the path can then read and change the traffic. */
    insecure: z.literal(true).optional(),
    /** A client certificate and key (PEM) for upstreams that ask for one (mutual TLS). */
    cert: pemFile.optional(),
    key: pemFile.optional(),
  })
  .refine((t) => !t.cert === !t.key, {
    message: 'a client certificate needs both cert and key',
  })
  .refine((t) => !(t.insecure && t.ca), {
    message: 'insecure: true skips verification, so a ca has no use: keep one of them',
  })

export type TlsSettings = z.output<typeof tlsSettings>
export type UpstreamTls = z.output<typeof upstreamTls>
