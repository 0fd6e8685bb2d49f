// Certificates cutover makes for itself (`tls.certificates: [{ selfSigned:
// [names] }]`): self-signed for those names with openssl, in the state folder,
// made the first time one is needed (check, start, reload) and kept after, so
// clients told to trust it go on trusting it across restarts; made again once
// it has less than a month to live.

import { execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { CutoverError } from '../../common/cutover-error.ts'

/** How long one stays valid: the most a browser accepts for a certificate. */
const DAYS = 398
/** One with less life left than this is made again at its next use. */
const RENEW_BEFORE_MS = 30 * 86_400_000

/** Where the certificate for `names` lives in the state folder: its own folder per set of names. */
export function selfSignedFiles(
  state: string,
  names: readonly string[],
): { cert: string; key: string } {
  const id = createHash('sha256').update(names.join(',')).digest('hex').slice(0, 12)
  const dir = join(state, 'self-signed', `${names[0].replace(/^\*\./, 'wildcard.')}-${id}`)
  return { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
}

/** Makes the certificate and key for `names` at `cert` and `key` unless they are there with a month to live. */
export function ensureSelfSigned(
  cert: string,
  key: string,
  names: readonly string[],
  now = Date.now(),
): void {
  if (existsSync(cert) && existsSync(key) && validTo(cert) - now > RENEW_BEFORE_MS) return
  const dir = join(cert, '..')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // Made aside and renamed into place: a process reading at the same moment sees both files or neither.
  const [certAside, keyAside] = [`${cert}.${process.pid}.tmp`, `${key}.${process.pid}.tmp`]
  const san = `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`
  try {
    // biome-ignore format: one openssl command line
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyAside, '-out', certAside, '-days', String(DAYS), '-subj', `/CN=${names[0]}`, '-addext', san], { stdio: 'pipe' })
  } catch (err) {
    throw new CutoverError(
      'CONFIG_INVALID',
      `tls: making the self-signed certificate for ${names.join(', ')} with openssl failed (${(err as Error).message.split('\n')[0]}); install openssl (apt-get install -y openssl), or list certificate files instead`,
    )
  }
  // The key first: a reader that finds the new certificate finds its key too.
  renameSync(keyAside, key)
  renameSync(certAside, cert)
}

/** When the certificate in `file` expires (0 when it cannot be read: made again). */
function validTo(file: string): number {
  try {
    return new Date(new X509Certificate(readFileSync(file)).validTo).getTime()
  } catch {
    return 0
  }
}
