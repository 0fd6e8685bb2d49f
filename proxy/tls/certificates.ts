// The certificates the HTTPS and DNS-over-TLS listeners present, read from PEM
// files and checked as a careful operator would before serving them: the key
// is the certificate's, the certificate is in its validity period and names at
// least one host. A client's SNI picks one: an exact name first, then a
// wildcard one label deep, then the default.

import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContext } from 'node:tls'
import { CutoverError } from '../../common/cutover-error.ts'
import type { TlsSettings } from '../config/tls-settings.ts'
import { ensureSelfSigned } from './self-signed.ts'

/** One certificate as served: the names it answers for and when it expires. */
export interface ServedCertificate {
  /** Its first name, as metrics and /readyz show it. */
  name: string
  /** Every DNS name it holds (subjectAltName, or the CN when it has none), lowercase. */
  names: string[]
  /** When it stops being valid, ms since the epoch. */
  notAfter: number
  context: SecureContext
  /** The PEM it was made from: a server's own context (for clients that send no SNI) is made from this. */
  pem: { cert: string; key: string }
}

export interface CertificateStore {
  certificates: ServedCertificate[]
  /** For a client whose name matches none, or that names none. */
  fallback: ServedCertificate
  /** The context for a client that asked for `servername` (maybe empty). */
  contextFor(servername: string): SecureContext
}

/** Reads and checks every certificate; throws CONFIG_INVALID naming the file and what is wrong. */
export function loadCertificates(tls: TlsSettings): CertificateStore {
  const certificates = tls.certificates.map((c, i) => {
    const where = `tls.certificates[${i}]`
    if (c.selfSigned) ensureSelfSigned(c.cert, c.key, c.selfSigned)
    const certPem = readPem(c.cert, `${where}.cert`)
    const keyPem = readPem(c.key, `${where}.key`)
    const chainPem = c.chain === undefined ? '' : readPem(c.chain, `${where}.chain`)
    // Read after the self-signed one is made: openssl dates it to the second it was made in.
    return served(certPem, keyPem, chainPem, `${where} (${c.cert})`, Date.now())
  })
  const exact = new Map<string, ServedCertificate>()
  const wildcard = new Map<string, ServedCertificate>()
  for (const c of certificates)
    for (const n of c.names) {
      const table = n.startsWith('*.') ? wildcard : exact
      const key = n.startsWith('*.') ? n.slice(2) : n
      // The first listed wins a name two certificates hold, as in the config's order.
      if (!table.has(key)) table.set(key, c)
    }
  const fallback = certificates[tls.default]
  return {
    certificates,
    fallback,
    contextFor(servername) {
      const name = servername.toLowerCase().replace(/\.$/, '')
      const dot = name.indexOf('.')
      const c = exact.get(name) ?? (dot > 0 ? wildcard.get(name.slice(dot + 1)) : undefined)
      return (c ?? fallback).context
    },
  }
}

function readPem(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new CutoverError(
      'CONFIG_INVALID',
      `${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
}

function served(
  certPem: string,
  keyPem: string,
  chainPem: string,
  where: string,
  now: number,
): ServedCertificate {
  const fail = (why: string): never => {
    throw new CutoverError('CONFIG_INVALID', `${where}: ${why}`)
  }
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certPem)
  } catch (err) {
    return fail(`not a PEM certificate: ${(err as Error).message}`)
  }
  let key: ReturnType<typeof createPrivateKey>
  try {
    key = createPrivateKey(keyPem)
  } catch (err) {
    return fail(`the key is not a PEM private key: ${(err as Error).message}`)
  }
  if (!cert.checkPrivateKey(key))
    fail('the key does not match the certificate: give the key the certificate was issued for')
  const notAfter = Date.parse(cert.validTo)
  const notBefore = Date.parse(cert.validFrom)
  if (notAfter <= now) fail(`the certificate expired on ${cert.validTo}: renew it`)
  if (notBefore > now) fail(`the certificate is not valid before ${cert.validFrom}`)
  const names = namesOf(cert)
  if (names.length === 0)
    fail(
      'the certificate names no host (no DNS name in subjectAltName or CN): no client could verify it',
    )
  const pem = { cert: chainPem ? `${certPem}\n${chainPem}` : certPem, key: keyPem }
  let context: SecureContext
  try {
    context = createSecureContext(pem)
  } catch (err) {
    return fail(`OpenSSL refuses it: ${(err as Error).message}`)
  }
  return { name: names[0], names, notAfter, context, pem }
}

/** The DNS names a certificate holds: its subjectAltName's, else its CN when that is a host name. */
function namesOf(cert: X509Certificate): string[] {
  const alt = cert.subjectAltName
  if (alt) {
    const names = alt
      .split(', ')
      .filter((n) => n.startsWith('DNS:'))
      .map((n) => n.slice(4).toLowerCase())
    if (names.length > 0) return names
  }
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1]?.toLowerCase()
  return cn && /^(\*\.)?[a-z0-9.-]+$/.test(cn) ? [cn] : []
}
