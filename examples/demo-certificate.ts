// The quickstart's certificate: self-signed for the demo names, made with
// openssl on first start in the state folder and kept there, so the HTTPS and
// DNS-over-TLS listeners have something to present. Real setups list their
// own certificates under `tls:`.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { CutoverError } from '../common/cutover-error.ts'

const NAMES = ['example.test', '*.example.test', 'legacy.test', '*.legacy.test']

/** The demo certificate and key in `stateDir`, made now when they are not there yet. */
export function demoCertificate(stateDir: string): { cert: string; key: string } {
  const dir = join(stateDir, 'quickstart-tls')
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  if (existsSync(cert) && existsSync(key)) return { cert, key }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  try {
    const san = `subjectAltName=${NAMES.map((n) => `DNS:${n}`).join(',')}`
    // biome-ignore format: one openssl command line
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '825', '-subj', '/CN=example.test', '-addext', san], { stdio: 'pipe' })
  } catch (err) {
    throw new CutoverError(
      'USAGE',
      `the quickstart makes its demo certificate with openssl, which failed: ${(err as Error).message.split('\n')[0]}; install openssl (apt-get install -y openssl)`,
    )
  }
  return { cert, key }
}
