// Record data of every type with a text form, read by us and by BIND's own
// reader (named-compilezone) from the same zone file: the text each prints
// must agree (BIND splits long hex and base64 with spaces; those are ignored).

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CutoverError } from '../../common/cutover-error.ts'
import { findTool } from '../../proxy/e2e/support/tools.ts'
import { typeName } from '../constants.ts'
import { parseMasterFile } from '../master-file.ts'
import { wireToText } from '../name.ts'
import { rdataToText } from '../rdata.ts'

const DIGEST = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
const KEY =
  'mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=='

// The DNSSEC types (a zone holding them is served by the legacy path today, so
// only their reading is checked here), and forms the served zone does not use.
const RECORDS = `$TTL 300
$ORIGIN z.test.
@ IN SOA ns1 hostmaster 1 2 3 4 5
@ IN NS ns1
ns1 IN A 192.0.2.1
dnskey IN DNSKEY 257 3 ECDSAP256SHA256 ${KEY}
ds IN DS 12345 RSASHA256 2 ${DIGEST}
rrsig IN RRSIG A 13 3 300 20270101000000 20261201000000 12345 z.test. ${KEY}
rrsig-seconds IN RRSIG NSEC 8 2 60 1798761600 1796083200 1 z.test. AQID
nsec IN NSEC next.z.test. A NS SOA RRSIG NSEC DNSKEY TYPE65534
nsec3param IN NSEC3PARAM 1 0 10 AABBCCDD
nsec3param-nosalt IN NSEC3PARAM 1 0 0 -
2t7b4g4vsa5smi47k61mv5bv1a22bojr IN NSEC3 1 1 10 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG
2t7b4g4vsa5smi47k61mv5bv1a22bojs IN NSEC3 1 0 0 aabb 2t7b4g4vsa5smi47k61mv5bv1a22boj0
cert IN CERT PKIX 65535 RSASHA256 MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
uri-empty IN URI 10 1 ""
csync IN CSYNC 66 3 A NS AAAA TYPE1000
a6 IN A6 0 2001:db8::1
a6-odd IN A6 67 ::1:2:3:4 prefix.z.test.
a6-name IN A6 128 prefix.z.test.
atma IN ATMA +61200000000
atma-aesa IN ATMA 39.246f.000e7c9c0312000100010000020000000000
`

const dir = mkdtempSync(join(tmpdir(), 'cutover-zone-types-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** `owner type rdata` lines with the rdata's spaces removed and letters lowercased. */
const normal = (owner: string, type: string, rdata: string) =>
  `${owner.toLowerCase()} ${type} ${rdata.replace(/\s+/g, '').toLowerCase()}`

describe('record data as BIND reads it', () => {
  it('prints every DNSSEC and rarer record as named-compilezone does', () => {
    const compile = findTool('named-compilezone')
    if (!compile)
      throw new Error('named-compilezone (BIND 9) is not installed: apt-get install -y bind9-utils')
    const file = join(dir, 'z.zone')
    writeFileSync(file, RECORDS)
    const bind = execFileSync(compile, ['-s', 'full', '-o', '-', 'z.test', file], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((l) => /^\S+\s+\d+\s+IN\s+/.test(l))
      .map((l) => {
        const [owner, , , type, ...rdata] = l.split(/\s+/)
        return normal(owner, type, rdata.join(' '))
      })
      .sort()
    const ours = parseMasterFile(
      { text: RECORDS, file },
      { origin: 'z.test', include: () => ({ text: '', file }) },
    )
      .records.map((r) =>
        normal(
          wireToText(r.owner),
          typeName(r.type),
          rdataToText(r.type, r.rdata.wire, 0, r.rdata.wire.length),
        ),
      )
      .sort()
    expect(bind).toHaveLength(RECORDS.trim().split('\n').length - 2)
    expect(ours).toEqual(bind)
  })

  // Records that parse but that BIND refuses, each with the reason we give.
  const REFUSED: [string, string][] = [
    ['ds IN DS 1 13 1 0123', 'a DS digest of type 1 has 20 octets, not 2'],
    ['sshfp IN SSHFP 1 1 0123', 'a SSHFP digest of type 1 has 20 octets, not 2'],
    ['zonemd IN ZONEMD 1 1 1 0123', 'a ZONEMD digest of type 1 has 48 octets, not 2'],
    [
      'n IN NAPTR 100 10 "S" "SIP+D2U" "!^.*$!sip:x" .',
      'the NAPTR regexp is not !ERE!replacement!',
    ],
    ['n IN NAPTR 100 10 "S" "SIP+D2U" "!(a)!\\\\2!" .', 'refers to \\2 but the ERE has 1 group(s)'],
    ['md IN MD foo', 'type MD is obsolete'],
    ['nsec IN NSEC next.z.test.', 'an NSEC record lists at least one type'],
  ]
  for (const [line, why] of REFUSED)
    it(`refuses what BIND refuses: ${line}`, () => {
      const check = findTool('named-checkzone')
      if (!check)
        throw new Error('named-checkzone (BIND 9) is not installed: apt-get install -y bind9-utils')
      const file = join(dir, 'refused.zone')
      const text = `$TTL 300\n$ORIGIN z.test.\n@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 192.0.2.1\n${line}\n`
      writeFileSync(file, text)
      expect(spawnSync(check, ['z.test', file]).status).not.toBe(0)
      let error: unknown
      try {
        parseMasterFile({ text, file }, { origin: 'z.test', include: () => ({ text: '', file }) })
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(CutoverError)
      expect((error as Error).message).toContain(`${file}:6:`)
      expect((error as Error).message).toContain(why)
    })
})
