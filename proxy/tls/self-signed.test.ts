// tls.certificates: [{ selfSigned: [names] }]: files in the state folder, made
// with openssl on first need and kept after; a bad name is a config error.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../config/config.ts'
import { loadCertificates } from './certificates.ts'
import { ensureSelfSigned } from './self-signed.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function configWith(certificates: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-self-signed-'))
  dirs.push(dir)
  const file = join(dir, 'cutover.yaml')
  writeFileSync(
    file,
    `state: state\ntls:\n  certificates: ${certificates}\nhttp:\n  listen: 127.0.0.1:0\n  tls: { listen: 127.0.0.1:0 }\n  legacy: { url: "http://127.0.0.1:9" }\n  doh: false\n`,
  )
  return file
}

describe('selfSigned certificates', () => {
  it('are made in the state folder on first need for the names given, and kept', () => {
    const config = loadConfig(configWith('[{ selfSigned: [shop.test, "*.shop.test"] }]'))
    const [c] = config.tls!.certificates
    expect(c.cert.startsWith(join(config.state, 'self-signed', 'shop.test-'))).toBe(true)
    const store = loadCertificates(config.tls!)
    expect(store.certificates[0].names).toEqual(['shop.test', '*.shop.test'])
    const pem = readFileSync(c.cert, 'utf8')
    loadCertificates(config.tls!)
    expect(readFileSync(c.cert, 'utf8')).toBe(pem)
    // With less than a month to live, it is made again.
    ensureSelfSigned(c.cert, c.key, c.selfSigned!, Date.now() + 380 * 86_400_000)
    expect(readFileSync(c.cert, 'utf8')).not.toBe(pem)
    expect(loadCertificates(config.tls!).certificates[0].names).toEqual([
      'shop.test',
      '*.shop.test',
    ])
  })

  it('refuses what is not a DNS name, or an entry with neither files nor names', () => {
    expect(() => loadConfig(configWith('[{ selfSigned: ["not a name"] }]'))).toThrow(
      'expected a DNS name like shop.example.test or *.example.test',
    )
    expect(() => loadConfig(configWith('[{ names: [shop.test] }]'))).toThrow(
      'expected { cert, key } (PEM files, with an optional chain) or { selfSigned: [names] }',
    )
  })
})
