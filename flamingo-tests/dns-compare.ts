// Compares two DNS responses after normalising them: rcode, header flags, each
// section as a set of RRsets (record order ignored, names case-insensitive, TTLs
// within a tolerance), EDNS presence and size. Returns field-level differences;
// the same code serves CI suites and live shadow traffic.

import { className, Flag, rcodeName, Type, typeName } from '../dns/constants.ts'
import type { Message, ResourceRecord } from '../dns/message.ts'

export interface DnsCompareOptions {
  /** TTLs may differ by this many seconds (a cache counts them down). */
  ttlTolerance?: number
  /** Fields to leave out, by name (`additional`, `edns.udpSize`, `flags.ra`...). */
  ignore?: readonly string[]
}

/** One difference: the field (a group key for reports) and each side's value. */
export interface FieldDiff {
  field: string
  legacy: string
  candidate: string
}

const FLAGS = [
  ['aa', Flag.AA],
  ['tc', Flag.TC],
  ['rd', Flag.RD],
  ['ra', Flag.RA],
  ['ad', Flag.AD],
  ['cd', Flag.CD],
] as const

/** Types whose data holds domain names only besides numbers, so it compares case-insensitively. */
const NAME_DATA = new Set<number>([
  Type.NS,
  Type.CNAME,
  Type.PTR,
  Type.MX,
  Type.SOA,
  Type.SRV,
  Type.DNAME,
])

interface RRset {
  key: string
  ttl: number
  data: string[]
}

function rrsets(records: readonly ResourceRecord[]): Map<string, RRset> {
  const out = new Map<string, RRset>()
  for (const r of records) {
    const key = `${r.name.toLowerCase()} ${className(r.class)} ${typeName(r.type)}`
    let set = out.get(key)
    if (!set) {
      set = { key, ttl: r.ttl, data: [] }
      out.set(key, set)
    }
    set.ttl = Math.min(set.ttl, r.ttl)
    set.data.push(NAME_DATA.has(r.type) ? r.data.toLowerCase() : r.data)
  }
  for (const set of out.values()) set.data.sort()
  return out
}

function compareSection(
  name: string,
  a: readonly ResourceRecord[],
  b: readonly ResourceRecord[],
  tolerance: number,
  out: FieldDiff[],
): void {
  const left = rrsets(a)
  const right = rrsets(b)
  for (const [key, l] of left) {
    const r = right.get(key)
    if (!r) {
      out.push({
        field: `${name}.rrset`,
        legacy: `${key} ${l.data.join(' | ')}`,
        candidate: '(absent)',
      })
      continue
    }
    if (l.data.join('\n') !== r.data.join('\n')) {
      out.push({
        field: `${name}.rdata`,
        legacy: `${key} ${l.data.join(' | ')}`,
        candidate: `${key} ${r.data.join(' | ')}`,
      })
    }
    if (Math.abs(l.ttl - r.ttl) > tolerance) {
      out.push({ field: `${name}.ttl`, legacy: `${key} ${l.ttl}`, candidate: `${key} ${r.ttl}` })
    }
  }
  for (const [key, r] of right) {
    if (!left.has(key))
      out.push({
        field: `${name}.rrset`,
        legacy: '(absent)',
        candidate: `${key} ${r.data.join(' | ')}`,
      })
  }
}

/** Differences between the legacy's response and the candidate's; empty when they agree. */
export function compareDns(
  legacy: Message,
  candidate: Message,
  options: DnsCompareOptions = {},
): FieldDiff[] {
  const out: FieldDiff[] = []
  const tolerance = options.ttlTolerance ?? 0
  if (legacy.rcode !== candidate.rcode) {
    out.push({
      field: 'rcode',
      legacy: rcodeName(legacy.rcode),
      candidate: rcodeName(candidate.rcode),
    })
  }
  for (const [name, bit] of FLAGS) {
    const l = (legacy.flags & bit) !== 0
    const c = (candidate.flags & bit) !== 0
    if (l !== c) out.push({ field: `flags.${name}`, legacy: String(l), candidate: String(c) })
  }
  // A truncated response's sections say nothing: the client retries over TCP.
  const truncated = (legacy.flags & Flag.TC) !== 0 && (candidate.flags & Flag.TC) !== 0
  if (!truncated) {
    compareSection('answer', legacy.answer, candidate.answer, tolerance, out)
    compareSection('authority', legacy.authority, candidate.authority, tolerance, out)
    compareSection('additional', legacy.additional, candidate.additional, tolerance, out)
  }
  if ((legacy.edns === undefined) !== (candidate.edns === undefined)) {
    out.push({
      field: 'edns.present',
      legacy: String(legacy.edns !== undefined),
      candidate: String(candidate.edns !== undefined),
    })
  } else if (legacy.edns && candidate.edns && legacy.edns.udpSize !== candidate.edns.udpSize) {
    out.push({
      field: 'edns.udpSize',
      legacy: String(legacy.edns.udpSize),
      candidate: String(candidate.edns.udpSize),
    })
  }
  const ignore = options.ignore ?? []
  return ignore.length === 0
    ? out
    : out.filter((d) => !ignore.some((i) => d.field === i || d.field.startsWith(`${i}.`)))
}

/** A message in dig-like text, for reports and test failures. */
export function describeDns(m: Message): string {
  const flags = FLAGS.filter(([, bit]) => m.flags & bit).map(([n]) => n)
  const lines = [`${rcodeName(m.rcode)} flags: ${flags.join(' ')}`]
  const section = (name: string, rs: readonly ResourceRecord[]) => {
    for (const r of rs)
      lines.push(`${name}: ${r.name} ${r.ttl} ${className(r.class)} ${typeName(r.type)} ${r.data}`)
  }
  section('answer', m.answer)
  section('authority', m.authority)
  section('additional', m.additional)
  if (m.edns) lines.push(`edns: udp ${m.edns.udpSize}${m.edns.do ? ' do' : ''}`)
  return lines.join('\n')
}
