// Signs a zone offline as an operator would (dnssec-keygen, dnssec-signzone),
// for the tests and benches that serve signed zones and validate answers.

import { execFileSync } from 'node:child_process'
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Type } from '../../../dns/constants.ts'
import { findTool } from './tools.ts'

export function bindTool(name: string): string {
  const found = findTool(name)
  if (!found) throw new Error(`${name} is not installed: apt-get install -y bind9-utils`)
  return found
}

/**
 * Signs `origin` from the master file `source` with a fresh KSK and ZSK in the
 * folder `work`; `nsec3`: NSEC3 with opt-out, else NSEC; `validFor`: seconds the
 * signatures hold (dnssec-signzone's 30 days by default). Returns the signed
 * file and a trust anchor file for its KSK (`delv -a`).
 */
export function signZone(
  origin: string,
  source: string,
  work: string,
  nsec3: boolean,
  validFor?: number,
): { file: string; anchor: string } {
  const unsigned = join(work, `${origin}.zone`)
  copyFileSync(source, unsigned)
  let anchor = ''
  for (const ksk of [true, false]) {
    const args = ['-q', '-K', work, '-a', 'ECDSAP256SHA256', ...(ksk ? ['-f', 'KSK'] : []), origin]
    const key = execFileSync(bindTool('dnssec-keygen'), args, { encoding: 'utf8' }).trim()
    appendFileSync(unsigned, `$INCLUDE ${join(work, `${key}.key`)}\n`)
    if (ksk) {
      // "<origin>. IN DNSKEY 257 3 13 <key in words>" after the comment lines.
      const fields = readFileSync(join(work, `${key}.key`), 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith(';'))[0]
        .split(/\s+/)
      anchor = join(work, 'anchor.conf')
      writeFileSync(
        anchor,
        `trust-anchors { ${origin}. static-key ${fields.slice(3, 6).join(' ')} "${fields.slice(6).join('')}"; };\n`,
      )
    }
  }
  const file = join(work, `${origin}.signed`)
  const args = ['-q', '-K', work, '-d', work, '-o', origin, '-f', file]
  if (nsec3) args.push('-3', 'aabbccdd', '-A')
  if (validFor !== undefined) args.push('-e', `now+${validFor}`)
  execFileSync(bindTool('dnssec-signzone'), [...args, unsigned], { cwd: work })
  return { file, anchor }
}

/** The types the signed-zone tests ask every name for. */
export const SIGNED_ZONE_TYPES = [
  Type.A,
  Type.AAAA,
  Type.MX,
  Type.TXT,
  Type.NS,
  Type.SOA,
  Type.CNAME,
  Type.DS,
  Type.DNSKEY,
  Type.NSEC,
  Type.NSEC3,
  Type.NSEC3PARAM,
]

/** Every owner name written in a master file (hashed NSEC3 names too), and `more`, each once. */
export function ownersOf(file: string, more: readonly string[] = []): string[] {
  const owners = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => /^([^\s;$]+)\s/.exec(l)?.[1])
    .filter((o): o is string => o !== undefined)
  return [...new Set([...owners, ...more])]
}
