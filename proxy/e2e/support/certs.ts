// A certificate authority of the test's own, made with openssl at run time,
// and certificates it issues: for given names, expired, or not yet valid.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findTool } from './tools.ts'

export interface IssuedCertificate {
  cert: string
  key: string
}

export interface TestCa {
  dir: string
  /** The CA certificate, PEM file: what clients trust. */
  caCert: string
  /**
   * A certificate for `names` (DNS names, `*.` wildcards allowed), valid from
   * `from` to `until` (openssl's YYYYMMDDHHMMSSZ form; by default from
   * yesterday, for a year). `names: []` makes one with neither SAN nor CN host.
   */
  issue(
    file: string,
    names: readonly string[],
    dates?: { from?: string; until?: string },
  ): IssuedCertificate
  remove(): void
}

/** The openssl form of a date `days` from now. */
export function opensslDate(days: number): string {
  return `${new Date(Date.now() + days * 86_400_000)
    .toISOString()
    .replace(/[-:T]|\.\d+/g, '')
    .slice(0, 14)}Z`
}

/** A new P-256 key, unencrypted: what each `openssl req` here makes. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

export function makeTestCa(): TestCa {
  const openssl = findTool('openssl')
  if (!openssl) throw new Error('openssl is not installed: apt-get install -y openssl')
  const dir = mkdtempSync(join(tmpdir(), 'cutover-ca-'))
  const run = (args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' })
  const caCert = join(dir, 'ca.pem')
  // biome-ignore format: one openssl command line
  run(['req', '-x509', ...NEW_KEY, '-keyout', 'ca.key', '-out', caCert, '-days', '3650', '-subj', '/CN=cutover test CA'])
  writeFileSync(join(dir, 'index.txt'), '')
  writeFileSync(join(dir, 'serial'), '1000\n')
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `dir = ${dir}`,
      `database = ${dir}/index.txt`,
      `new_certs_dir = ${dir}`,
      `serial = ${dir}/serial`,
      'default_md = sha256',
      'policy = any',
      'copy_extensions = copy',
      'unique_subject = no',
      '[any]',
      'commonName = optional',
    ].join('\n'),
  )
  return {
    dir,
    caCert,
    issue(file, names, dates = {}) {
      const cert = join(dir, `${file}.pem`)
      const key = join(dir, `${file}.key`)
      const san =
        names.length > 0
          ? ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`]
          : []
      const subject = names.length > 0 ? `/CN=${names[0]}` : '/O=no host'
      // biome-ignore format: one openssl command line
      run(['req', '-new', ...NEW_KEY, '-keyout', key, '-out', `${file}.csr`, '-subj', subject, ...san])
      const [from, until] = [dates.from ?? opensslDate(-1), dates.until ?? opensslDate(365)]
      // biome-ignore format: one openssl command line
      run(['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', caCert, '-keyfile', 'ca.key', '-in', `${file}.csr`, '-out', cert, '-startdate', from, '-enddate', until])
      return { cert, key }
    },
    remove() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
