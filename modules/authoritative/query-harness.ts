// The authoritative module's tests' shared parts: the zones they load (written
// to temp files), and queries built as a client sends them and run through the
// module as the engine runs them, replies decoded.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { expect } from 'vitest'
import { Flag, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage, type Message, type QueryOptions } from '../../dns/message.ts'
import { createQueryView, Parse, readQuery } from '../../dns/query-view.ts'
import type { DnsContext, DnsTransport } from '../dns-module.ts'
import type { ModuleLog } from '../env.ts'
import { ANSWER, type Verdict } from '../verdict.ts'
import { type AuthoritativeModule, authoritative } from './index.ts'

// --- zones -------------------------------------------------------------------

// One folder per test file, made by its first zone and removed by the file's
// afterAll(removeZoneFiles): unit test files share one process and one instance
// of this module (vitest.config.ts), so the module cannot tie it to its loading.
let dir: string | undefined
let files = 0
/** Writes a zone file and returns its path. */
export function zoneFile(text: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'cutover-authoritative-'))
  const file = join(dir, `zone-${files++}.zone`)
  writeFileSync(file, text)
  return file
}

/** Removes the zone files written so far. */
export function removeZoneFiles(): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  dir = undefined
}

export const AUTH_ZONE = `
$TTL 3600
$ORIGIN auth.test.
@        IN SOA  ns1 hostmaster ( 1 7200 900 1209600 300 )
         IN NS   ns1
         IN NS   ns2.auth.test.
         IN MX   10 mail
         IN MX   20 mail.outside.test.
ns1      IN A    192.0.2.1
         IN AAAA 2001:db8::1
ns2      IN A    192.0.2.2
mail     IN A    192.0.2.3
www      IN A    192.0.2.10
         IN A    192.0.2.11
         IN AAAA 2001:db8::10
alias    IN CNAME www
chain    IN CNAME alias
dangling IN CNAME missing
loop1    IN CNAME loop2
loop2    IN CNAME loop1
external IN CNAME www.outside.test.
to-wild  IN CNAME foo.wild
*.wild   IN A    192.0.2.30
         IN TXT  "wildcard"
*.cnamewild IN CNAME www
a.b.c.ent IN A   192.0.2.40
sub      IN NS   ns1.sub
         IN NS   ns.outside.test.
         IN NS   ns1
ns1.sub  IN A    192.0.2.50
signed   IN NS   ns1.signed
         IN DS   12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns1.signed IN A  192.0.2.51
_sip._tcp IN SRV 10 60 5060 sipserver
sipserver IN A   192.0.2.60
${Array.from({ length: 40 }, (_, i) => `big IN A 198.51.100.${i + 1}`).join('\n')}
`

/** The smallest zone that loads: a leading blank line, then its SOA, its NS and the NS's address. */
export const apex = (origin: string, ttl: number, minimum: number) => `
$TTL ${ttl}
$ORIGIN ${origin}.
@   IN SOA ns1 hostmaster 1 7200 900 1209600 ${minimum}
    IN NS  ns1
ns1 IN A   192.0.2.1
`

// The SOA's own TTL (60) is below its minimum (600): negative answers use 60.
export const LOW_ZONE = apex('low.test', 60, 600)

// More than 16 KiB of answer: 900 MX records whose targets have addresses.
export const HOSTS = 900
export const host = (i: number) => `h${String(i).padStart(3, '0')}`
export const BIG_ZONE = `${apex('big.test', 3600, 300)}${Array.from({ length: HOSTS }, (_, i) => `mx IN MX ${i} ${host(i)}\n*.w IN MX ${i} ${host(i)}\n${host(i)} IN A 10.0.${i >> 8}.${i & 0xff}`).join('\n')}
`

export const silent: ModuleLog = { info() {}, warn() {}, error() {} }

export function load(zones: { name: string; text: string }[], log = silent): AuthoritativeModule {
  return authoritative(
    { zones: zones.map((z) => ({ name: z.name, file: zoneFile(z.text) })) },
    { log, registry: new Registry() },
  )
}

export const auth = load([
  { name: 'auth.test', text: AUTH_ZONE },
  { name: 'low.test', text: LOW_ZONE },
  { name: 'big.test', text: BIG_ZONE },
])

// --- queries -----------------------------------------------------------------

export interface Ask {
  transport?: DnsTransport
  /** Overrides the limit the engine would compute. */
  sizeLimit?: number
  ednsPayload?: number
}

/** Runs one query through the module as the engine would. */
export function run(query: Buffer, opts: Ask = {}, module: AuthoritativeModule = auth) {
  const view = createQueryView()
  expect(readQuery(query, query.length, view)).toBe(Parse.OK)
  const transport = opts.transport ?? 'udp'
  const ctx: DnsContext = {
    query,
    view,
    transport,
    sizeLimit:
      opts.sizeLimit ??
      (transport !== 'udp'
        ? 65_535
        : view.edns
          ? Math.min(Math.max(view.ednsUdpSize, 512), 1232)
          : 512),
    ednsPayload: opts.ednsPayload ?? 1232,
    out: Buffer.alloc(65_535),
    response: Buffer.alloc(0),
    responseLength: 0,
  }
  const verdict: Verdict = module.query!(ctx)
  const reply = Buffer.from(ctx.response.subarray(0, ctx.responseLength))
  return { verdict, reply }
}

/** Asks `name`/`type` and decodes the answer; fails when the module did not answer. */
export function ask(
  name: string,
  type: number,
  opts: Ask & Partial<QueryOptions> = {},
  module: AuthoritativeModule = auth,
): Message & { bytes: Buffer } {
  const query = buildQuery({ id: 0x4242, name, type, ...opts })
  const { verdict, reply } = run(query, opts, module)
  expect(verdict).toBe(ANSWER)
  expect(reply.readUInt16BE(0)).toBe(0x4242)
  // The question exactly as asked.
  expect(reply.subarray(12, query.length - (opts.edns ? 11 + optionsLength(opts) : 0))).toEqual(
    query.subarray(12, query.length - (opts.edns ? 11 + optionsLength(opts) : 0)),
  )
  return { ...decodeMessage(reply), bytes: reply }
}

export const optionsLength = (opts: Partial<QueryOptions>) =>
  (opts.edns?.options ?? []).reduce((n, o) => n + 4 + o.data.length, 0)

export const lower = (s: string) => s.toLowerCase()
/**
 * Records as [owner, type, data] triples, lowercased: names compressed against the
 * question read in the question's case.
 */
export const rrs = (records: Message['answer']) =>
  records.map((r) => [lower(r.name), r.type, lower(r.data)] as [string, number, string])

export const SOA_DATA = 'ns1.auth.test. hostmaster.auth.test. 1 7200 900 1209600 300'

/** The A records of www.auth.test, where its CNAME chains end. */
export const WWW_A: [string, number, string][] = [
  ['www.auth.test.', Type.A, '192.0.2.10'],
  ['www.auth.test.', Type.A, '192.0.2.11'],
]

/**
 * A negative answer from auth.test: `rcode`, authoritative, `answer` (the CNAMEs
 * on the way, or nothing), and the zone's SOA alone in authority.
 */
export function expectNegative(m: Message, rcode: number, answer: [string, number, string][] = []) {
  expect(m.rcode).toBe(rcode)
  expect(m.flags & Flag.AA).toBe(Flag.AA)
  expect(rrs(m.answer)).toEqual(answer)
  expect(rrs(m.authority)).toEqual([['auth.test.', Type.SOA, SOA_DATA]])
}

// --- tests -------------------------------------------------------------------
