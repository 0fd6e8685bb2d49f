// Zones signed offline (dnssec-signzone, NSEC and NSEC3 with opt-out) on the new
// path, against a default BIND 9 serving the same signed file: answered here as
// BIND answers them, with DO and without; what needs a proof of absence goes to
// BIND; delv, trusting the zone's key, validates what the proxy answers.

import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage, type Message, type QueryOptions } from '../../dns/message.ts'
import { compareDns } from '../../flamingo-tests/dns-compare.ts'
import type { RunReport } from '../../flamingo-tests/report-model.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { startBind } from './support/bind.ts'
import { cutover, dnsDiff } from './support/cli.ts'
import { compareWithBind } from './support/dns-against-bind.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy } from './support/proxy.ts'
import { bindTool, ownersOf, SIGNED_ZONE_TYPES, signZone } from './support/sign-zone.ts'

const execFileAsync = promisify(execFile)
const ZONES = join(dirname(fileURLToPath(import.meta.url)), 'zones')
const dir = mkdtempSync(join(tmpdir(), 'cutover-signed-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Every owner in the signed file and names it does not hold. */
const namesOf = (file: string) =>
  ownersOf(file, [
    'nx.signed.test.',
    'deep.nx.signed.test.',
    'foo.wild.signed.test.',
    'a.wc.signed.test.',
    'b.ent.signed.test.',
    'ent.signed.test.',
    'www.sub.signed.test.',
    'www.insecure.signed.test.',
  ])

for (const nsec3 of [false, true])
  describe(`a zone signed with ${nsec3 ? 'NSEC3 and opt-out' : 'NSEC'}`, () => {
    let file: string
    let anchor: string
    let bind: Awaited<ReturnType<typeof startBind>>
    let proxy: Awaited<ReturnType<typeof startTestProxy>>

    beforeAll(async () => {
      ;({ file, anchor } = signZone(
        'signed.test',
        join(ZONES, 'signed.test.zone'),
        mkdtempSync(join(dir, nsec3 ? 'nsec3-' : 'nsec-')),
        nsec3,
      ))
      bind = await startBind([{ name: 'signed.test', file }], dirname(file))
      proxy = await startTestProxy({
        dns: {
          listen: '127.0.0.1:0',
          candidateListen: `127.0.0.1:${await freePort()}`,
          zones: [{ name: 'signed.test', file, percent: 100 }],
          legacy: { servers: [`127.0.0.1:${bind.port}`], timeout: '1s' },
          // Legacy answers compared exactly: the cache would count their TTLs down.
          packetcache: { enabled: false },
        },
      })
    })

    afterAll(async () => {
      await proxy?.stop()
      await bind?.stop()
    })

    it('answers every name and type as BIND does, DO 0 and 1 (512 to 4096 octets), RD 1 and 0, UDP and TCP', async () => {
      const cases: QueryOptions[] = namesOf(file).flatMap((name) =>
        SIGNED_ZONE_TYPES.flatMap((type) =>
          [true, false].flatMap((rd) => [
            { name, type, rd },
            { name, type, rd, edns: { udpSize: 1232 } },
            { name, type, rd, edns: { udpSize: 1232, do: true } },
            { name, type, rd, edns: { udpSize: 4096, do: true } },
            // Where signatures do not fit: optional records left out, or TC.
            { name, type, rd, edns: { udpSize: 512, do: true } },
          ]),
        ),
      )
      const { mismatches, newPath } = await compareWithBind({ bind, proxy }, cases, ['udp', 'tcp'])
      expect(mismatches.slice(0, 5).join('\n\n')).toBe('')
      expect(newPath).toBeGreaterThan(cases.length)
    })

    it('cutover diff generate asks with DO too, and its run finds BIND and the new path agree', async () => {
      const suite = join(dir, `${nsec3 ? 'nsec3' : 'nsec'}-suite.yaml`)
      const gen = await cutover([
        'diff',
        'generate',
        '--zone',
        file,
        '--origin',
        'signed.test',
        '--out',
        suite,
      ])
      expect(gen.code, gen.out).toBe(0)
      const cases = (parse(readFileSync(suite, 'utf8')) as { cases: { do: boolean }[] }).cases
      expect(cases.filter((c) => c.do).length).toBeGreaterThan(cases.length / 3)
      const json = join(dir, `${nsec3 ? 'nsec3' : 'nsec'}-report.json`)
      const run = await dnsDiff(suite, bind.port, proxy.dnsCandidatePort, '--json', json)
      const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport
      expect(report.totals.mismatch, run.out).toBe(0)
      expect(report.totals.error, run.out).toBe(0)
      expect(run.code).toBe(0)
    })

    it('sends RRSIG queries to BIND: each signature has its own TTL', async () => {
      const q = buildQuery({ name: 'www.signed.test', type: Type.RRSIG })
      const before = await proxy.metric('cutover_fallbacks_total', {
        protocol: 'dns',
        reason: 'qtype-rrsig',
      })
      const [fromBind, fromProxy] = await Promise.all([
        exchange(bind, q, 'udp'),
        exchange({ host: '127.0.0.1', port: proxy.dnsPort }, q, 'udp'),
      ])
      const reply = decodeMessage(fromProxy)
      expect(compareDns(decodeMessage(fromBind), reply, { ttlTolerance: 1 })).toEqual([])
      expect(reply.answer.length).toBeGreaterThanOrEqual(2)
      expect(
        await proxy.metric('cutover_fallbacks_total', { protocol: 'dns', reason: 'qtype-rrsig' }),
      ).toBe(before + 1)
    })

    it('answers DO queries with signatures and proofs (NODATA, NXDOMAIN, wildcards, empty non-terminals, no DS); an answer from two wildcards goes to BIND', async () => {
      const ask = async (name: string, type: number) => {
        const q = buildQuery({ name, type, rd: false, edns: { udpSize: 1232, do: true } })
        const [fromBind, fromProxy] = await Promise.all([
          exchange(bind, q, 'udp'),
          exchange({ host: '127.0.0.1', port: proxy.dnsPort }, q, 'udp'),
        ])
        const reply = decodeMessage(fromProxy)
        const legacy = decodeMessage(fromBind)
        expect(compareDns(legacy, reply)).toEqual([])
        // And in BIND's order, which the comparison leaves aside.
        const order = (m: Message) =>
          [...m.answer, ...m.authority].map((r) => `${r.name.toLowerCase()} ${r.type}`)
        expect(order(reply)).toEqual(order(legacy))
        return reply
      }
      const counts = () =>
        Promise.all([
          proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'new' }),
          proxy.metric('cutover_fallbacks_total', { protocol: 'dns', reason: 'dnssec-proof' }),
        ])
      const [newBefore, proofBefore] = await counts()
      const www = await ask('www.signed.test', Type.A)
      expect(www.answer.map((r) => r.type)).toEqual([Type.A, Type.RRSIG])
      expect(www.edns?.do).toBe(true)
      expect(await counts()).toEqual([newBefore + 1, proofBefore])
      let served = newBefore + 1
      // Each denial carries its proof: with NSEC, the records listed; with NSEC3, NSEC3 records.
      const proven = async (name: string, type: number, nsecAuthority: number[]) => {
        const reply = await ask(name, type)
        const authority = reply.authority.map((r) => r.type)
        if (nsec3) expect(authority, name).toContain(Type.NSEC3)
        else expect(authority, name).toEqual(nsecAuthority)
        expect(await counts(), name).toEqual([++served, proofBefore])
      }
      const soaNsec = [Type.SOA, Type.RRSIG, Type.NSEC, Type.RRSIG]
      await proven('www.signed.test', Type.MX, soaNsec)
      await proven('alias.signed.test', Type.MX, soaNsec)
      // A secure referral carries the DS, whatever the chain.
      const secure = await ask('sub.signed.test', Type.AAAA)
      expect(secure.authority.map((r) => r.type)).toEqual([Type.NS, Type.DS, Type.RRSIG])
      expect(await counts()).toEqual([++served, proofBefore])
      await proven('insecure.signed.test', Type.DS, soaNsec)
      await proven('www.insecure.signed.test', Type.A, [Type.NS, Type.NSEC, Type.RRSIG])
      // No name: the NSEC that covers it and the one that covers the wildcard.
      await proven('nx.signed.test', Type.A, [...soaNsec, Type.NSEC, Type.RRSIG])
      await proven('deep.nx.signed.test', Type.SOA, [...soaNsec, Type.NSEC, Type.RRSIG])
      await proven('dangling.signed.test', Type.A, [...soaNsec, Type.NSEC, Type.RRSIG])
      // An empty non-terminal: the NSEC that covers it. A wildcard answer: the one that covers the name.
      await proven('ent.signed.test', Type.A, soaNsec)
      await proven('foo.wild.signed.test', Type.A, [Type.NS, Type.RRSIG, Type.NSEC, Type.RRSIG])
      await proven('foo.wild.signed.test', Type.MX, soaNsec)
      await proven('towild.signed.test', Type.A, [Type.NS, Type.RRSIG, Type.NSEC, Type.RRSIG])
      // An answer from two wildcards, one leading to the other, is proven by BIND.
      expect((await ask('a.wc.signed.test', Type.A)).answer).toHaveLength(4)
      expect(await counts()).toEqual([served, proofBefore + 1])
    })

    it('gives answers delv validates with the zone key, as it validates BIND answers: positive, CNAME, secure referral, NXDOMAIN, NODATA, wildcard, chains into both', async () => {
      // Asynchronously: the proxy answers from this process. The first line is delv's verdict.
      const delv = async (port: number, name: string, type: string) =>
        (
          await execFileAsync(
            bindTool('delv'),
            ['@127.0.0.1', '-p', String(port), '-a', anchor, '+root=signed.test', name, type],
            { encoding: 'utf8', timeout: 10_000 },
          )
        ).stdout.split('\n')[0]
      const verdicts = async (name: string, type: string) => ({
        name,
        bind: await delv(bind.port, name, type),
        proxy: await delv(proxy.dnsPort, name, type),
      })
      for (const [name, type] of [
        ['www.signed.test', 'A'],
        ['alias.signed.test', 'A'],
        ['signed.test', 'MX'],
        ['sub.signed.test', 'DS'],
      ]) {
        const seen = await verdicts(name, type)
        expect(seen).toEqual({ name, bind: '; fully validated', proxy: '; fully validated' })
      }
      for (const [name, type] of [
        ['nx.signed.test', 'A'],
        ['www.signed.test', 'MX'],
        ['foo.wild.signed.test', 'A'],
        ['towild.signed.test', 'A'],
        ['dangling.signed.test', 'A'],
      ]) {
        const seen = await verdicts(name, type)
        expect(seen.proxy, name).toBe(seen.bind)
        // With opt-out, the NSEC3 that proves no closer name could cover an unsigned
        // delegation, so a validator calls a wildcard answer insecure (RFC 5155 section 9.2).
        if (!(nsec3 && name.includes('wild')))
          expect(seen.proxy, name).toMatch(/^; (negative response, )?fully validated$/)
      }
    })
  })
