// Asks BIND and the proxy the same DNS queries and describes every answer that
// differs (after normalising, as the differential harness does): the
// end-to-end proof that the new path answers as a BIND legacy would.

import { writeFileSync } from 'node:fs'
import { expect } from 'vitest'
import { buildQuery, decodeMessage, type QueryOptions } from '../../../dns/message.ts'
import { compareDns, describeDns } from '../../../flamingo-tests/dns-compare.ts'
import { exchange } from '../../../legacy-adapter/dns-client.ts'
import type { BindServer } from './bind.ts'
import type { TestProxy } from './proxy.ts'

export async function inBatches<T>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run))
}

/**
 * Asks `cases` of BIND and the proxy over `transport`; describes each answer
 * that differs (with DUMP=path set, writes them all to path + transport).
 */
export async function mismatchesOf(
  pair: { bind: BindServer; proxy: TestProxy },
  cases: readonly QueryOptions[],
  transport: 'udp' | 'tcp',
): Promise<string[]> {
  const mismatches: string[] = []
  await inBatches(cases, transport === 'udp' ? 32 : 8, async (q) => {
    const query = buildQuery(q)
    const [fromBind, fromProxy] = await Promise.all([
      exchange(pair.bind, query, transport),
      exchange({ host: '127.0.0.1', port: pair.proxy.dnsPort }, query, transport),
    ])
    // The question comes back exactly as asked: same ID, same letter case.
    expect(fromProxy.subarray(12, query.length - (q.edns ? 11 : 0))).toEqual(
      query.subarray(12, query.length - (q.edns ? 11 : 0)),
    )
    const diffs: unknown[] = compareDns(decodeMessage(fromBind), decodeMessage(fromProxy))
    // The comparison takes sections as sets; BIND's order of RRsets is held here
    // too, but for truncated replies, whose sections say nothing.
    const [bindOrder, proxyOrder] = [fromBind, fromProxy].map(rrsetOrder)
    const truncated = (fromBind[2] & fromProxy[2] & 0x02) !== 0
    if (diffs.length === 0 && !truncated && bindOrder !== proxyOrder)
      diffs.push({ field: 'rrset order', legacy: bindOrder, candidate: proxyOrder })
    if (diffs.length > 0) {
      mismatches.push(
        `${q.name} ${q.type} edns=${q.edns?.udpSize ?? '-'} rd=${q.rd}:\n${JSON.stringify(diffs, null, 1)}\nBIND:\n${describeDns(decodeMessage(fromBind))}\nproxy:\n${describeDns(decodeMessage(fromProxy))}`,
      )
    }
  })
  if (process.env.DUMP) writeFileSync(process.env.DUMP + transport, mismatches.join('\n\n'))
  return mismatches
}

/**
 * `mismatchesOf` over each of `transports` in turn, and how many queries the
 * proxy answered on its new path meanwhile.
 */
export async function compareWithBind(
  pair: { bind: BindServer; proxy: TestProxy },
  cases: readonly QueryOptions[],
  transports: readonly ('udp' | 'tcp')[],
): Promise<{ mismatches: string[]; newPath: number }> {
  const served = () => pair.proxy.metric('cutover_requests_total', { protocol: 'dns', path: 'new' })
  const before = await served()
  const mismatches: string[] = []
  for (const transport of transports)
    mismatches.push(...(await mismatchesOf(pair, cases, transport)))
  return { mismatches, newPath: (await served()) - before }
}

/**
 * The answer and authority sections as the sequence of their RRsets (owner and
 * type; the records inside one are in no set order, BIND rotates them).
 */
function rrsetOrder(reply: Buffer): string {
  const m = decodeMessage(reply)
  const keys = (records: typeof m.answer) =>
    records
      .map((r) => `${r.name.toLowerCase()}/${r.type}`)
      .filter((key, i, all) => key !== all[i - 1])
      .join(' ')
  return `${keys(m.answer)} | ${keys(m.authority)}`
}
