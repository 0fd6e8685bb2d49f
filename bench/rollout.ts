// The rollout decision's cost per request, in process: choosePath with each
// stickiness key, against a baseline of one Map lookup by the client address
// (the least a per-client decision could cost). Target: well under 1 µs.

import { Type } from '../dns/constants.ts'
import { buildQuery } from '../dns/message.ts'
import { createQueryView, readQuery } from '../dns/query-view.ts'
import { choosePath } from '../rollout/scope.ts'
import { createScope } from '../rollout/scopes.ts'
import { dnsKeyHash, httpKeyHash } from '../rollout/stickiness.ts'

const N = 2_000_000
const CLIENTS = 4096
const v4 = Array.from(
  { length: CLIENTS },
  (_, i) => `10.${(i >> 8) & 0xff}.${i & 0xff}.${(i * 7) & 0xff}`,
)
const v6 = Array.from(
  { length: CLIENTS },
  (_, i) => `2001:db8:${i.toString(16)}::${(i * 13).toString(16)}`,
)
const view = createQueryView()
const query = buildQuery({
  name: 'www.example.com',
  type: Type.A,
  edns: { udpSize: 1232, options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, 198, 51, 100]) }] },
})
readQuery(query, query.length, view)
const headers = ['host', 'www.example.com', 'x-user', 'user-1234', 'accept', '*/*']

function scope(stickiness: string) {
  return createScope(
    {
      id: `bench:${stickiness}`,
      protocol: 'dns',
      basisPoints: 2500,
      stickiness,
      salt: undefined,
      servable: true,
    },
    { v4: 24, v6: 56 },
  )
}

function time(run: (i: number) => unknown): number {
  for (let i = 0; i < N / 10; i++) run(i)
  const t = performance.now()
  let sink = 0
  for (let i = 0; i < N; i++) if (run(i)) sink++
  const ns = ((performance.now() - t) * 1e6) / N
  return sink >= 0 ? ns : ns
}

export async function rolloutBench(): Promise<string> {
  const map = new Map(v4.map((a, i) => [a, i]))
  const [ip, subnet, ecs, qname, header] = [
    'client-ip',
    'client-subnet',
    'ecs',
    'qname',
    'header:x-user',
  ].map(scope)
  const baseline = time((i) => map.get(v4[i & (CLIENTS - 1)]))
  const rows: [string, number][] = [
    ['Map lookup by client address (baseline)', baseline],
    [
      'dns, client-ip (IPv4)',
      time((i) => choosePath(ip, dnsKeyHash, query, view, v4[i & (CLIENTS - 1)])),
    ],
    [
      'dns, client-subnet /24 (IPv4)',
      time((i) => choosePath(subnet, dnsKeyHash, query, view, v4[i & (CLIENTS - 1)])),
    ],
    [
      'dns, client-subnet /56 (IPv6)',
      time((i) => choosePath(subnet, dnsKeyHash, query, view, v6[i & (CLIENTS - 1)])),
    ],
    [
      'dns, ecs (from the query)',
      time((i) => choosePath(ecs, dnsKeyHash, query, view, v4[i & (CLIENTS - 1)])),
    ],
    ['dns, qname', time((i) => choosePath(qname, dnsKeyHash, query, view, v4[i & (CLIENTS - 1)]))],
    [
      'http, header:x-user',
      time((i) =>
        choosePath(header, httpKeyHash, 'www.example.com', headers, v4[i & (CLIENTS - 1)]),
      ),
    ],
  ]
  const lines = [
    `Rollout decision at 25%, ${N.toLocaleString()} decisions per row, one process`,
    '',
    '| decision | ns each | vs baseline |',
    '|---|---:|---:|',
  ]
  for (const [name, ns] of rows)
    lines.push(`| ${name} | ${ns.toFixed(0)} | ${(ns / baseline).toFixed(2)}× |`)
  return lines.join('\n')
}
