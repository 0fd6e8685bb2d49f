import { generateKeyPairSync, verify } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { fqdnWire } from '../../dns/name.ts'
import { rdataFromWire } from '../../dns/rdata.ts'
import { loadZone } from './load.ts'
import { canonicalRdata, signRRset } from './rrsig.ts'
import { keyTag, readSigningKeys } from './signing-keys.ts'

const dir = mkdtempSync(join(tmpdir(), 'cutover-keys-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A P-256 key as dnssec-keygen writes it: the .key line's DNSKEY and the .private fields. */
function ecKey(flags: number) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = privateKey.export({ format: 'jwk' })
  const pub = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')])
  return {
    dnskey: `${flags} 3 13 ${pub.toString('base64')}`,
    private: `Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: ${Buffer.from(jwk.d!, 'base64url').toString('base64')}\n`,
  }
}

function folder(files: Record<string, string>): string {
  const at = mkdtempSync(join(dir, 'k-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(at, name), text)
  return at
}

function zoneWith(dnskeys: string[]) {
  const file = join(mkdtempSync(join(dir, 'z-')), 'keys.test.zone')
  writeFileSync(
    file,
    `$ORIGIN keys.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n${dnskeys.map((k) => `@ DNSKEY ${k}`).join('\n')}\n`,
  )
  return loadZone({ name: 'keys.test', file }).zone
}

describe('keyTag', () => {
  it('is RFC 4034 appendix B of the DNSKEY rdata (the example of section 5.4: 60485)', () => {
    const key = Buffer.from(
      'AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==',
      'base64',
    )
    expect(keyTag(Buffer.concat([Buffer.from([1, 0, 3, 5]), key]))).toBe(60485)
  })
})

describe('readSigningKeys', () => {
  const zsk = ecKey(256)
  const ksk = ecKey(257)
  const zone = zoneWith([zsk.dnskey, ksk.dnskey])

  it('reads the keys the zone publishes, KSK and ZSK, and signs with them', () => {
    const keys = readSigningKeys(
      folder({
        'Kkeys.test.+013+00001.key': `; a comment\nkeys.test. IN DNSKEY ${zsk.dnskey}\n`,
        'Kkeys.test.+013+00001.private': zsk.private,
        'Kkeys.test.+013+00002.key': `keys.test. 3600 IN DNSKEY ${ksk.dnskey}\n`,
        'Kkeys.test.+013+00002.private': ksk.private,
        'Kother.test.+013+00003.key': 'not read: another zone',
      }),
      zone,
    )
    expect(keys.map((k) => k.ksk).sort()).toEqual([false, true])
    const key = keys.find((k) => !k.ksk)!
    const owner = fqdnWire('WWW.keys.test')
    const rdatas = [
      rdataFromWire(Type.A, Buffer.from([192, 0, 2, 2])),
      rdataFromWire(Type.A, Buffer.from([192, 0, 2, 1])),
    ]
    const sig = signRRset(owner, Type.A, 300, rdatas, zone.origin, key, {
      inception: 1000,
      expiration: 2000,
    }).wire
    expect([sig.readUInt16BE(0), sig[2], sig[3], sig.readUInt32BE(4)]).toEqual([Type.A, 13, 3, 300])
    expect([sig.readUInt32BE(8), sig.readUInt32BE(12), sig.readUInt16BE(16)]).toEqual([
      2000,
      1000,
      key.tag,
    ])
    // RFC 4034 section 3.1.8.1: the RRSIG's fields, then the records lowercased and in order.
    const fields = sig.subarray(0, 18 + zone.origin.length)
    const record = (last: number) =>
      Buffer.concat([
        fqdnWire('www.keys.test'),
        Buffer.from([0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, last]),
      ])
    const signed = Buffer.concat([fields, record(1), record(2)])
    const signature = sig.subarray(fields.length)
    expect(verify('sha256', signed, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
      true,
    )
  })

  it('lowercases the names inside rdata that RFC 4034 section 6.2 lists', () => {
    const mx = Buffer.concat([Buffer.from([0, 10]), fqdnWire('Mail.Keys.TEST')])
    expect(canonicalRdata(Type.MX, mx)).toEqual(
      Buffer.concat([Buffer.from([0, 10]), fqdnWire('mail.keys.test')]),
    )
    const txt = Buffer.from('\x02AB')
    expect(canonicalRdata(Type.TXT, txt)).toEqual(txt)
  })

  it("refuses, naming the folder or file and the fix: no folder, no key the zone publishes, a private key that is not its DNSKEY's, a key not yet active", () => {
    expect(() => readSigningKeys(join(dir, 'missing'), zone)).toThrow(
      /keys folder .*missing for keys\.test\. cannot be read/,
    )
    const stranger = ecKey(256)
    expect(() =>
      readSigningKeys(
        folder({
          'Kkeys.test.+013+00009.key': `keys.test. IN DNSKEY ${stranger.dnskey}\n`,
          'Kkeys.test.+013+00009.private': stranger.private,
        }),
        zone,
      ),
    ).toThrow(
      /holds no active key whose DNSKEY keys\.test\. publishes: put the Kkeys\.test\.\+<alg>\+<tag>\.key/,
    )
    expect(() =>
      readSigningKeys(
        folder({
          'Kkeys.test.+013+00001.key': `keys.test. IN DNSKEY ${zsk.dnskey}\n`,
          'Kkeys.test.+013+00001.private': ksk.private,
        }),
        zone,
      ),
    ).toThrow(/Kkeys\.test\.\+013\+00001\.private does not match its DNSKEY/)
    expect(() =>
      readSigningKeys(
        folder({
          'Kkeys.test.+013+00001.key': `other.test. IN DNSKEY ${zsk.dnskey}\n`,
          'Kkeys.test.+013+00001.private': zsk.private,
        }),
        zone,
      ),
    ).toThrow(/is a key of other\.test\., not of keys\.test\./)
    expect(() =>
      readSigningKeys(
        folder({
          'Kkeys.test.+013+00001.key': `keys.test. IN DNSKEY ${zsk.dnskey}\n`,
          'Kkeys.test.+013+00001.private': `${zsk.private}Activate: 20990101000000\n`,
        }),
        zone,
      ),
    ).toThrow(/holds no active key/)
  })
})
