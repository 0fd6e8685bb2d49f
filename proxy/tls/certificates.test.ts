// The certificate store: every check it makes before serving, and which
// certificate a client's SNI gets.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTestCa, opensslDate, type TestCa } from '../e2e/support/certs.ts'
import { type CertificateStore, loadCertificates } from './certificates.ts'

let ca: TestCa
beforeAll(() => {
  ca = makeTestCa()
})
afterAll(() => ca.remove())

const settings = (certificates: { cert: string; key: string; chain?: string }[], dflt = 0) => ({
  certificates,
  default: dflt,
  minVersion: 'TLSv1.2' as const,
  ticketRotation: 3600_000,
  handshakeTimeout: 10_000,
})

describe('checks before serving', () => {
  it('refuses a key that is not the certificate’s, naming the file', () => {
    const a = ca.issue('a', ['a.test'])
    const b = ca.issue('b', ['b.test'])
    expect(() => loadCertificates(settings([{ cert: a.cert, key: b.key }]))).toThrow(
      `tls.certificates[0] (${a.cert}): the key does not match the certificate`,
    )
  })

  it('refuses an expired certificate, saying when it expired', () => {
    const old = ca.issue('old', ['old.test'], { from: opensslDate(-30), until: opensslDate(-1) })
    expect(() => loadCertificates(settings([old]))).toThrow(
      /the certificate expired on .*: renew it/,
    )
  })

  it('refuses a certificate not valid yet', () => {
    const later = ca.issue('later', ['later.test'], {
      from: opensslDate(2),
      until: opensslDate(30),
    })
    expect(() => loadCertificates(settings([later]))).toThrow(/not valid before/)
  })

  it('refuses a certificate that names no host', () => {
    const none = ca.issue('none', [])
    expect(() => loadCertificates(settings([none]))).toThrow(/names no host/)
  })

  it('refuses a file that is missing or not PEM, naming the key', () => {
    const ok = ca.issue('ok', ['ok.test'])
    expect(() =>
      loadCertificates(settings([{ cert: join(ca.dir, 'nope.pem'), key: ok.key }])),
    ).toThrow(/tls\.certificates\[0\]\.cert: cannot read .*nope\.pem: ENOENT/)
    const junk = join(ca.dir, 'junk.pem')
    writeFileSync(junk, 'not a certificate')
    expect(() => loadCertificates(settings([{ cert: junk, key: ok.key }]))).toThrow(
      /not a PEM certificate/,
    )
    expect(() => loadCertificates(settings([{ cert: ok.cert, key: junk }]))).toThrow(
      /the key is not a PEM private key/,
    )
  })

  it('throws CUTOVER_ERR_CONFIG_INVALID', () => {
    const none = ca.issue('none2', [])
    expect(() => loadCertificates(settings([none]))).toThrow(
      expect.objectContaining({ code: 'CUTOVER_ERR_CONFIG_INVALID' }),
    )
  })
})

describe('the certificate a client gets', () => {
  let store: CertificateStore
  beforeAll(() => {
    store = loadCertificates(
      settings(
        [
          ca.issue('first', ['first.test']),
          ca.issue('wild', ['*.shop.test']),
          ca.issue('exact', ['www.shop.test', 'shop.test']),
        ],
        0,
      ),
    )
  })
  const nameFor = (servername: string) =>
    store.certificates.find((c) => c.context === store.contextFor(servername))?.name

  it('an exact name before a wildcard', () => {
    expect(nameFor('www.shop.test')).toBe('www.shop.test')
    expect(nameFor('shop.test')).toBe('www.shop.test')
  })

  it('a wildcard one label deep, any case, a trailing dot ignored', () => {
    expect(nameFor('api.shop.test')).toBe('*.shop.test')
    expect(nameFor('API.Shop.Test.')).toBe('*.shop.test')
    expect(nameFor('a.b.shop.test')).toBe('first.test')
  })

  it('the default for no name or an unknown one', () => {
    expect(nameFor('')).toBe('first.test')
    expect(nameFor('other.test')).toBe('first.test')
  })

  it('knows each certificate’s names and expiry', () => {
    const exact = store.certificates[2]
    expect(exact.names).toEqual(['www.shop.test', 'shop.test'])
    expect(exact.notAfter).toBeGreaterThan(Date.now() + 300 * 86_400_000)
  })
})
