// RunReports built by hand for the report tests: a DNS TTL group of several
// cases, an HTTP header mismatch, noise, a suppressed diff, an error, an expired
// suppression, and case ids with <, &, " and ' in them.

import {
  type CaseResult,
  groupDiffs,
  type RunReport,
  type Suppression,
  totalsOf,
} from './report-model.ts'

const LEGACY_DNS = '127.0.0.1:5301'
const CANDIDATE_DNS = '127.0.0.1:5300'

/** A case that matched, with each field overridable. */
export function caseResult(fields: Partial<CaseResult> & { id: string }): CaseResult {
  return {
    kind: 'dns',
    outcome: 'match',
    diffs: [],
    noise: [],
    suppressed: [],
    replay: { legacy: `replay-legacy ${fields.id}`, candidate: `replay-candidate ${fields.id}` },
    durationMs: 3,
    ...fields,
  }
}

function digs(name: string, type: string, tcp = false): CaseResult['replay'] {
  const dig = (server: string) => {
    const [host, port] = server.split(':')
    return `dig @${host} -p ${port} +norec${tcp ? ' +tcp' : ''} '${name}' ${type}`
  }
  return { legacy: dig(LEGACY_DNS), candidate: dig(CANDIDATE_DNS) }
}

function curls(host: string, target: string): CaseResult['replay'] {
  const curl = (port: number) => `curl -si -H 'Host: ${host}' 'http://127.0.0.1:${port}${target}'`
  return { legacy: curl(8081), candidate: curl(8080) }
}

export const SERVER_SUPPRESSION: Suppression = {
  field: 'header.x-powered-by',
  who: 'alice',
  why: 'the legacy adds it; the new path drops it on purpose',
  expires: '2099-12-31',
}

export const EXPIRED_SUPPRESSION: Suppression = {
  field: 'answer.ttl',
  case: 'cdn.*',
  who: 'bob',
  why: 'CDN TTLs are capped at 60 until <the> "migration" & after',
  expires: '2024-06-30',
}

/** The id with every character that needs escaping in XML and HTML. */
export const ODD_DNS_ID = `odd<&">'.example.test TXT udp`
export const ODD_HTTP_ID = `GET www.example.test/search?q=<b>&x="y"`
export const ERROR_ID = 'GET shop.example.test/cart?a=1&b=<2>'

/** The results of a run over two suites: four mismatches, three matches, one error. */
export function sampleResults(): CaseResult[] {
  return [
    caseResult({
      id: 'www.example.test A udp edns=1232',
      outcome: 'mismatch',
      diffs: [
        {
          field: 'answer.ttl',
          legacy: 'www.example.test IN A 300',
          candidate: 'www.example.test IN A 60',
        },
      ],
      replay: digs('www.example.test', 'A'),
      legacy: 'NOERROR flags: aa rd\nanswer: www.example.test 300 IN A 192.0.2.10\nedns: udp 1232',
      candidate:
        'NOERROR flags: aa rd\nanswer: www.example.test 60 IN A 192.0.2.10\nedns: udp 1232',
      durationMs: 4,
    }),
    caseResult({
      id: 'api.example.test AAAA tcp',
      outcome: 'mismatch',
      diffs: [
        {
          field: 'answer.rdata',
          legacy: 'api.example.test IN AAAA 2001:db8::1',
          candidate: 'api.example.test IN AAAA 2001:db8::2',
        },
        {
          field: 'answer.ttl',
          legacy: 'api.example.test IN AAAA 300',
          candidate: 'api.example.test IN AAAA 60',
        },
      ],
      replay: digs('api.example.test', 'AAAA', true),
      legacy: 'NOERROR flags: aa rd\nanswer: api.example.test 300 IN AAAA 2001:db8::1',
      candidate: 'NOERROR flags: aa rd\nanswer: api.example.test 60 IN AAAA 2001:db8::2',
      durationMs: 7,
    }),
    caseResult({
      id: ODD_DNS_ID,
      outcome: 'mismatch',
      diffs: [
        {
          field: 'answer.ttl',
          legacy: `odd<&">'.example.test IN TXT 300`,
          candidate: `odd<&">'.example.test IN TXT 60`,
        },
      ],
      replay: digs(`odd<&">'.example.test`, 'TXT'),
      legacy: `NOERROR flags: aa rd\nanswer: odd<&">'.example.test 300 IN TXT "<script>alert(1)</script>"`,
      candidate: `NOERROR flags: aa rd\nanswer: odd<&">'.example.test 60 IN TXT "<script>alert(1)</script>"`,
      durationMs: 5,
    }),
    caseResult({
      id: ODD_HTTP_ID,
      kind: 'http',
      outcome: 'mismatch',
      diffs: [{ field: 'header.cache-control', legacy: 'max-age=60', candidate: 'no-store' }],
      noise: [{ field: 'header.etag', legacy: '"a1"', candidate: '"a2"' }],
      replay: curls('www.example.test', '/search?q=<b>&x="y"'),
      legacy: '200\ncache-control: max-age=60\ncontent-type: text/html\n\n<p>results & more</p>',
      candidate: '200\ncache-control: no-store\ncontent-type: text/html\n\n<p>results & more</p>',
      durationMs: 12,
    }),
    caseResult({
      id: 'GET www.example.test/robots.txt',
      kind: 'http',
      suppressed: [
        {
          diff: { field: 'header.x-powered-by', legacy: 'Legacy/1.0', candidate: '(absent)' },
          by: SERVER_SUPPRESSION,
        },
      ],
      replay: curls('www.example.test', '/robots.txt'),
      durationMs: 2,
    }),
    caseResult({ id: 'mail.example.test MX udp', replay: digs('mail.example.test', 'MX') }),
    caseResult({
      id: 'cdn.example.test CNAME udp',
      replay: digs('cdn.example.test', 'CNAME'),
      durationMs: 1,
    }),
    caseResult({
      id: ERROR_ID,
      kind: 'http',
      outcome: 'error',
      error: 'legacy: connect ECONNREFUSED 127.0.0.1:8081',
      replay: curls('shop.example.test', '/cart?a=1&b=<2>'),
      durationMs: 2001,
    }),
  ]
}

/** A report over `results`, its totals and groups worked out as the runner would. */
export function reportOf(results: CaseResult[], expired: Suppression[] = []): RunReport {
  return {
    suites: ['dns-basic', 'http-sites'],
    startedAt: '2025-03-04T05:06:07.000Z',
    durationMs: 2500,
    targets: {
      legacy: 'legacy (127.0.0.1:5301, :8081)',
      candidate: 'cutover (127.0.0.1:5300, :8080)',
    },
    totals: totalsOf(results),
    groups: groupDiffs(results),
    expired,
    results,
  }
}

/** The sample run: mismatches, noise, a suppression, an error, an expired suppression. */
export function sampleReport(): RunReport {
  return reportOf(sampleResults(), [EXPIRED_SUPPRESSION])
}

/** A run where every case matched. */
export function passingReport(): RunReport {
  return reportOf(
    sampleResults().filter((r) => r.outcome === 'match'),
    [],
  )
}

/** The totals of the sample run as a person reads them in any report: name, then value. */
export const SAMPLE_TOTALS: readonly (readonly [name: string, value: string])[] = [
  ['cases', '8'],
  ['matching', '3'],
  ['mismatching', '4'],
  ['errors', '1'],
  ['noisy', '1'],
  ['suppressed', '1'],
  ['duration', '2.50 s'],
  ['cases/s', '3.20'],
]
