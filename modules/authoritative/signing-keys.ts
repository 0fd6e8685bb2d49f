// A signed zone's private keys, read from a folder of BIND key files
// (`K<zone>+<alg>+<tag>.key` and `.private`, as dnssec-keygen writes them), to
// sign the RRsets record events change (zone-signer.ts). Only keys whose DNSKEY
// the zone publishes and whose timing metadata says active are used.

import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CutoverError } from '../../common/cutover-error.ts'
import { Type } from '../../dns/constants.ts'
import { fqdnWire, lowerWire } from '../../dns/name.ts'
import type { Zone } from './zone.ts'

export interface SigningKey {
  /** The key's DNSKEY rdata, as the zone publishes it. */
  dnskey: Buffer
  tag: number
  algorithm: number
  /** A key-signing key (SEP flag): signs the DNSKEY RRset, and the rest when no ZSK of its algorithm is here. */
  ksk: boolean
  /** The digest node:crypto signs with; null for EdDSA, which hashes itself. */
  digest: string | null
  key: KeyObject
  file: string
}

/** DNSSEC algorithm number -> how its keys are read and used (RFC 8624's MUST and RECOMMENDED ones). */
const ALGORITHMS = new Map<
  number,
  { digest: string | null; kind: 'rsa' | 'ec' | 'ed'; curve?: string }
>([
  [5, { digest: 'sha1', kind: 'rsa' }],
  [7, { digest: 'sha1', kind: 'rsa' }],
  [8, { digest: 'sha256', kind: 'rsa' }],
  [10, { digest: 'sha512', kind: 'rsa' }],
  [13, { digest: 'sha256', kind: 'ec', curve: 'P-256' }],
  [14, { digest: 'sha384', kind: 'ec', curve: 'P-384' }],
  [15, { digest: null, kind: 'ed', curve: 'Ed25519' }],
  [16, { digest: null, kind: 'ed', curve: 'Ed448' }],
])

/** RFC 4034 appendix B: the key tag of DNSKEY rdata. */
export function keyTag(dnskey: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < dnskey.length; i++) sum += i & 1 ? dnskey[i] : dnskey[i] << 8
  sum += (sum >> 16) & 0xffff
  return sum & 0xffff
}

/**
 * The active keys in `dir` for `zone` whose DNSKEY it publishes. Throws naming
 * the folder, file and fix when the folder cannot be read, a key file is bad,
 * or no key here signs the zone.
 */
export function readSigningKeys(dir: string, zone: Zone, now = Date.now()): SigningKey[] {
  let files: string[]
  try {
    files = readdirSync(dir)
  } catch (err) {
    throw keyError(`keys folder ${dir} for ${zone.name} cannot be read: ${(err as Error).message}`)
  }
  const published = zone.apex.rrsets.get(Type.DNSKEY)?.rdatas ?? []
  // dnssec-keygen's names: K<zone with its final dot>+<algorithm>+<tag>.
  const prefix = `K${zone.name}+`
  const keys: SigningKey[] = []
  for (const name of files) {
    if (!name.toLowerCase().startsWith(prefix.toLowerCase()) || !name.endsWith('.key')) continue
    const file = join(dir, name)
    const dnskey = publicKeyOf(file, zone)
    if (!published.some((r) => r.wire.equals(dnskey))) continue
    const privateFile = `${file.slice(0, -'.key'.length)}.private`
    const fields = privateFields(privateFile)
    if (!isActive(fields, now)) continue
    keys.push(signingKey(dnskey, fields, privateFile))
  }
  if (keys.length === 0)
    throw keyError(
      `keys folder ${dir} holds no active key whose DNSKEY ${zone.name} publishes: put the K${zone.name}+<alg>+<tag>.key and .private files the zone was signed with there`,
    )
  return keys
}

/** The DNSKEY rdata on the record line of a `.key` file. */
function publicKeyOf(file: string, zone: Zone): Buffer {
  const line = readText(file)
    .split('\n')
    .find((l) => /\sDNSKEY\s/i.test(l) && !l.trimStart().startsWith(';'))
  const words = line?.trim().split(/\s+/) ?? []
  const at = words.findIndex((w) => w.toUpperCase() === 'DNSKEY')
  if (at < 0 || words.length < at + 5) throw keyError(`${file} holds no DNSKEY record`)
  if (!lowerWire(fqdnWire(words[0])).equals(zone.origin))
    throw keyError(`${file} is a key of ${words[0]}, not of ${zone.name}`)
  const head = Buffer.alloc(4)
  head.writeUInt16BE(Number(words[at + 1]), 0)
  head[2] = Number(words[at + 2])
  head[3] = Number(words[at + 3])
  return Buffer.concat([head, Buffer.from(words.slice(at + 4).join(''), 'base64')])
}

function privateFields(file: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of readText(file).split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
  }
  if (!fields.has('Algorithm')) throw keyError(`${file} is not a BIND private key file`)
  return fields
}

/** BIND's timing metadata (YYYYMMDDHHMMSS, UTC): active from `Activate` until `Inactive`. */
function isActive(fields: Map<string, string>, now: number): boolean {
  const at = (name: string) => {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(fields.get(name) ?? '')
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined
  }
  const activate = at('Activate')
  const inactive = at('Inactive')
  return (activate === undefined || activate <= now) && (inactive === undefined || inactive > now)
}

function signingKey(dnskey: Buffer, fields: Map<string, string>, file: string): SigningKey {
  const algorithm = dnskey[3]
  const known = ALGORITHMS.get(algorithm)
  if (known === undefined)
    throw keyError(
      `${file}: DNSSEC algorithm ${algorithm} cannot sign here; use RSASHA256, ECDSAP256SHA256, ECDSAP384SHA384, ED25519 or ED448`,
    )
  const b64url = (name: string) => {
    const value = fields.get(name)
    if (value === undefined) throw keyError(`${file} has no ${name} field`)
    return Buffer.from(value, 'base64').toString('base64url')
  }
  const publicKey = dnskey.subarray(4)
  let publicJwk: Record<string, string>
  let privateJwk: Record<string, string>
  if (known.kind === 'rsa') {
    publicJwk = { kty: 'RSA', n: b64url('Modulus'), e: b64url('PublicExponent') }
    privateJwk = {
      d: b64url('PrivateExponent'),
      p: b64url('Prime1'),
      q: b64url('Prime2'),
      dp: b64url('Exponent1'),
      dq: b64url('Exponent2'),
      qi: b64url('Coefficient'),
    }
  } else if (known.kind === 'ec') {
    const half = publicKey.length / 2
    publicJwk = {
      kty: 'EC',
      crv: known.curve!,
      x: publicKey.subarray(0, half).toString('base64url'),
      y: publicKey.subarray(half).toString('base64url'),
    }
    privateJwk = { d: b64url('PrivateKey') }
  } else {
    publicJwk = { kty: 'OKP', crv: known.curve!, x: publicKey.toString('base64url') }
    privateJwk = { d: b64url('PrivateKey') }
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: { ...publicJwk, ...privateJwk }, format: 'jwk' })
    // The private half must sign what the published half verifies (an RSA file holds its own modulus).
    const probe = Buffer.from(file)
    const signature = sign(known.digest, probe, key)
    const published = createPublicKey({ key: publicJwk, format: 'jwk' })
    if (known.kind === 'rsa' && !dnskeyHoldsModulus(publicKey, publicJwk.n))
      throw new Error("its modulus is not the DNSKEY's")
    if (!verify(known.digest, probe, published, signature))
      throw new Error('its private key signs what its DNSKEY does not verify')
  } catch (err) {
    throw keyError(`${file} does not match its DNSKEY: ${(err as Error).message}`)
  }
  return {
    dnskey,
    tag: keyTag(dnskey),
    algorithm,
    ksk: (dnskey.readUInt16BE(0) & 1) === 1,
    digest: known.digest,
    key,
    file,
  }
}

/** RFC 3110: an RSA DNSKEY is the exponent's length, the exponent, then the modulus. */
function dnskeyHoldsModulus(publicKey: Buffer, modulus: string): boolean {
  const long = publicKey[0] === 0
  const exponentEnd = long ? 3 + publicKey.readUInt16BE(1) : 1 + publicKey[0]
  return publicKey.subarray(exponentEnd).equals(Buffer.from(modulus, 'base64url'))
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw keyError(`${file} cannot be read: ${(err as Error).message}`)
  }
}

function keyError(message: string): CutoverError {
  return new CutoverError('ZONE_DATA', message)
}
