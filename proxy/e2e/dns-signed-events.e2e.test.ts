// Record events on a signed zone, end to end: with its keys (`keys:`, the
// folder dnssec-keygen wrote), each change is signed and the NSEC or NSEC3
// chain made to match, as BIND's inline signing does. Proof: dnssec-verify
// finds the zone as the proxy holds it fully signed, and delv, trusting the
// zone's key, validates what the proxy answers after the changes, positive and
// negative. Signatures near expiry are signed again.

import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { typeCode, typeName } from '../../dns/constants.ts'
import { buildQuery, type QueryOptions } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { authoritative } from '../../modules/authoritative/index.ts'
import type { Zone } from '../../modules/authoritative/zone.ts'
import { zoneText } from '../../modules/authoritative/zone-text.ts'
import { startBind } from './support/bind.ts'
import { mismatchesOf } from './support/dns-against-bind.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy } from './support/proxy.ts'
import { bindTool, ownersOf, SIGNED_ZONE_TYPES, signZone } from './support/sign-zone.ts'
import { until } from './support/until.ts'

const execFileAsync = promisify(execFile)
const ZONES = join(dirname(fileURLToPath(import.meta.url)), 'zones')
const dir = mkdtempSync(join(tmpdir(), 'cutover-signed-events-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Change {
  op: 'create' | 'delete' | 'update'
  name: string
  type: string
  data: string
  old?: { name: string; type: string; data: string }
}

/** New names (one under new empty non-terminals), new and removed types, a name removed, delegations made and secured, a rename. */
const CHANGES: Change[] = [
  { op: 'create', name: 'new1.signed.test.', type: 'A', data: '192.0.2.101' },
  { op: 'create', name: 'x.y.z.signed.test.', type: 'NS', data: 'ns1.signed.test.' },
  { op: 'create', name: 'www.signed.test.', type: 'MX', data: '10 mail.signed.test.' },
  { op: 'delete', name: 'www.signed.test.', type: 'TXT', data: '"hello"' },
  { op: 'create', name: 'a.b.newent.signed.test.', type: 'A', data: '192.0.2.102' },
  { op: 'delete', name: 'mail.signed.test.', type: 'A', data: '192.0.2.3' },
  { op: 'delete', name: 'a.b.ent.signed.test.', type: 'A', data: '192.0.2.40' },
  { op: 'create', name: 'deleg.signed.test.', type: 'NS', data: 'ns.deleg.signed.test.' },
  { op: 'create', name: 'ns.deleg.signed.test.', type: 'A', data: '192.0.2.103' },
  {
    op: 'create',
    name: 'insecure.signed.test.',
    type: 'DS',
    data: '12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  },
  { op: 'create', name: 'signed.test.', type: 'MX', data: '20 new1.signed.test.' },
  {
    op: 'update',
    name: 'renamed.signed.test.',
    type: 'A',
    data: '192.0.2.101',
    old: { name: 'new1.signed.test.', type: 'A', data: '192.0.2.101' },
  },
  { op: 'create', name: '*.wild2.signed.test.', type: 'TXT', data: '"any"' },
  // Next to a wildcard: the NSEC or NSEC3 that proves no closer name for its answers changes.
  { op: 'create', name: 'g.wild.signed.test.', type: 'A', data: '192.0.2.104' },
  // Data at an empty non-terminal: its NSEC3 is the closest provable encloser of the delegation below.
  { op: 'create', name: 'y.z.signed.test.', type: 'TXT', data: '"was empty"' },
  // After www in canonical order: www's NSEC names it next.
  { op: 'create', name: 'www2.signed.test.', type: 'A', data: '192.0.2.105' },
]

/** What delv validates after the changes: answers, and denials (names gone, names and types never there). */
const POSITIVE = [
  ['renamed.signed.test', 'A'],
  ['a.b.newent.signed.test', 'A'],
  ['www.signed.test', 'MX'],
  ['signed.test', 'MX'],
  ['signed.test', 'SOA'],
  ['insecure.signed.test', 'DS'],
]
const NEGATIVE = [
  ['new1.signed.test', 'A'],
  ['mail.signed.test', 'A'],
  ['a.b.ent.signed.test', 'A'],
  ['b.newent.signed.test', 'A'],
  ['www.signed.test', 'AAAA'],
  ['www.signed.test', 'TXT'],
  ['new0.signed.test', 'A'],
  ['zz.signed.test', 'TXT'],
  ['foo.wild.signed.test', 'MX'],
]

/** Answered before the changes too, so their proofs were made from the chain as it was. */
const PRIMED = [
  ...POSITIVE,
  ...NEGATIVE,
  ['foo.wild.signed.test', 'A'],
  ['www.insecure.signed.test', 'A'],
  ['x.wild2.signed.test', 'TXT'],
  ['x.wild.signed.test', 'AAAA'],
  ['www.deleg.signed.test', 'A'],
  ['www.x.y.z.signed.test', 'A'],
  // NSECs whose next name changes.
  ['*.wild.signed.test', 'NSEC'],
  ['signed.test', 'NSEC'],
  ['www.signed.test', 'NSEC'],
  ['towild.signed.test', 'A'],
]

/** dnssec-verify's verdict on `zone` as it stands (every RRset signed, the chain whole); throws with its output when it fails. */
function verify(zone: Zone, file: string): string {
  writeFileSync(file, zoneText(zone))
  return execFileSync(bindTool('dnssec-verify'), ['-o', 'signed.test', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

for (const nsec3 of [false, true])
  describe(`record events on a zone signed with ${nsec3 ? 'NSEC3 and opt-out' : 'NSEC'}`, () => {
    let work: string
    let anchor: string
    let file: string
    let bind: Awaited<ReturnType<typeof startBind>>
    let proxy: Awaited<ReturnType<typeof startTestProxy>>

    beforeAll(async () => {
      work = mkdtempSync(join(dir, nsec3 ? 'nsec3-' : 'nsec-'))
      ;({ file, anchor } = signZone('signed.test', join(ZONES, 'signed.test.zone'), work, nsec3))
      bind = await startBind([{ name: 'signed.test', file }], work)
      proxy = await startTestProxy({
        dns: {
          listen: '127.0.0.1:0',
          candidateListen: `127.0.0.1:${await freePort()}`,
          zones: [{ name: 'signed.test', file, keys: work, percent: 100 }],
          legacy: { servers: [`127.0.0.1:${bind.port}`], timeout: '1s' },
        },
      })
    })

    afterAll(async () => {
      await proxy?.stop()
      await bind?.stop()
    })

    const publish = async (c: Change) => {
      const { op, ...record } = c
      const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/zones/signed.test/records`, {
        method: op === 'delete' ? 'DELETE' : 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${proxy.token}` },
        body: JSON.stringify({ ttl: 300, ...record }),
      })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }

    // Asynchronously: the proxy answers from this process. The first line is delv's verdict.
    const delv = async (name: string, type: string) =>
      (
        await execFileAsync(
          bindTool('delv'),
          [
            '@127.0.0.1',
            '-p',
            String(proxy.dnsPort),
            '-a',
            anchor,
            '+root=signed.test',
            name,
            type,
          ],
          { encoding: 'utf8', timeout: 10_000 },
        )
      ).stdout.split('\n')[0]

    it('signs each change and keeps the chain whole: dnssec-verify passes after every one', async () => {
      // Answers made before each change, which it must not leave behind.
      const prime = async () => {
        for (const [name, type] of PRIMED)
          for (const rd of [false, true])
            await exchange(
              { host: '127.0.0.1', port: proxy.dnsPort },
              buildQuery({ name, type: typeCode(type)!, rd, edns: { udpSize: 1232, do: true } }),
              'udp',
            )
      }
      const zone = proxy.authoritative!.zone('signed.test')!
      const serial = () => zone.soa.rdatas[0].wire.readUInt32BE(zone.soa.rdatas[0].wire.length - 20)
      const before = serial()
      for (const [i, c] of CHANGES.entries()) {
        await prime()
        const { status, body } = await publish(c)
        expect({ change: c, status, body }).toMatchObject({
          status: 200,
          body: { result: 'applied' },
        })
        expect(verify(zone, join(work, `after-${i}.zone`)), c.name).toContain('Zone fully signed')
      }
      expect(serial()).toBe(before + CHANGES.length)
    })

    it('gives answers delv validates after the changes: the new names, the names gone, the new types and what is not there', async () => {
      for (const [name, type] of POSITIVE)
        expect({ name, verdict: await delv(name, type) }).toEqual({
          name,
          verdict: '; fully validated',
        })
      const negative = /^; negative response, fully validated$/
      for (const [name, type] of NEGATIVE)
        expect({ name, verdict: await delv(name, type) }).toEqual({
          name,
          verdict: expect.stringMatching(negative),
        })
      // A wildcard made by a change: with opt-out, what proves no closer name exists may cover an unsigned delegation (RFC 5155 section 9.2).
      expect(await delv('x.wild2.signed.test', 'TXT')).toBe(
        nsec3 ? '; unsigned answer' : '; fully validated',
      )
    })

    it('answers, after the changes, as BIND serving the zone as the proxy now holds it: every name and type, DO 1 and 0, RD 1 and 0', async () => {
      const now = join(work, 'now.zone')
      writeFileSync(now, zoneText(proxy.authoritative!.zone('signed.test')!))
      // Every signature covers an RRset at its name: none outlives what it signed.
      const records = readFileSync(now, 'utf8')
        .split('\n')
        .map((l) => l.split(' '))
        .filter((f) => f.length > 4)
      const held = new Set(records.map(([owner, , , type]) => `${owner} ${type}`))
      const orphans = records
        .filter(([, , , type]) => type === 'RRSIG')
        .map(
          ([owner, , , , , , hex]) =>
            `${owner} ${typeName(Buffer.from(hex, 'hex').readUInt16BE(0))}`,
        )
        .filter((covered) => !held.has(covered))
      expect(orphans).toEqual([])
      // As a snapshot: a full build from it holds the same records, chain and signatures.
      const fresh = authoritative(
        { zones: [{ name: 'signed.test', file: now, keys: work }] },
        { log: { info() {}, warn() {}, error() {} }, registry: new Registry() },
      )
      const lines = (text: string) => text.split('\n').sort()
      expect(lines(zoneText(fresh.zone('signed.test')!))).toEqual(lines(readFileSync(now, 'utf8')))
      fresh.close?.()
      const oracle = await startBind([{ name: 'signed.test', file: now }], work)
      try {
        const names = ownersOf(
          now,
          PRIMED.map(([n]) => n),
        )
        // RRSIG queries and answers from two wildcards are the legacy's, which holds the zone as it was.
        const cases: QueryOptions[] = names
          .filter((name) => !name.includes('.wc.'))
          .flatMap((name) =>
            SIGNED_ZONE_TYPES.flatMap((type) =>
              [true, false].flatMap((rd) => [
                { name, type, rd, edns: { udpSize: 1232 } },
                { name, type, rd, edns: { udpSize: 4096, do: true } },
              ]),
            ),
          )
        const mismatches = await mismatchesOf({ bind: oracle, proxy }, cases, 'udp')
        expect(mismatches.slice(0, 3).join('\n\n')).toBe('')
      } finally {
        await oracle.stop()
      }
    })

    it('signs again, in batches, the signatures that come within a quarter of their validity of expiring', async () => {
      // Signed for 3 days: everything is within the 7.5 days before expiry that BIND re-signs in.
      const short = mkdtempSync(join(dir, 'short-'))
      const signed = signZone(
        'signed.test',
        join(ZONES, 'signed.test.zone'),
        short,
        nsec3,
        3 * 86_400,
      )
      const module = authoritative(
        { zones: [{ name: 'signed.test', file: signed.file, keys: short }] },
        { log: { info() {}, warn() {}, error() {} }, registry: new Registry() },
      )
      try {
        const zone = module.zone('signed.test')!
        const expirations = () => {
          const all: number[] = []
          const add = (sigs: { rdatas: { wire: Buffer }[] } | undefined) => {
            for (const r of sigs?.rdatas ?? []) all.push(r.wire.readUInt32BE(8))
          }
          for (const node of zone.nodes.values())
            for (const r of node.rrsets.values()) add(r.signatures)
          for (const { rrset } of zone.nsec3Sets?.values() ?? []) add(rrset.signatures)
          return all
        }
        // The new ones hold for 30 days.
        const renewed = Date.now() / 1000 + 29 * 86_400
        await until(
          async () => Math.min(...expirations()) > renewed,
          'every signature renewed',
          10_000,
        )
        expect(expirations().length).toBeGreaterThan(20)
        expect(verify(zone, join(short, 'refreshed.zone'))).toContain('Zone fully signed')
      } finally {
        module.close?.()
      }
    })
  })
