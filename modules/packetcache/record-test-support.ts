// Records for the packet cache tests' legacy replies: written from their
// presentation form, class IN, as a real server writes them.

import { Type } from '../../dns/constants.ts'
import { fqdnWire, ROOT_WIRE } from '../../dns/name.ts'
import { rdataFromText } from '../../dns/rdata.ts'
import type { WireWriter } from '../../dns/wire-writer.ts'

export interface Rr {
  name: string
  type: number
  ttl: number
  /** The rdata's presentation tokens, unquoted. */
  data: string[]
}

export const rr = (name: string, type: number, ttl: number, ...data: string[]): Rr => ({
  name,
  type,
  ttl,
  data,
})

/** The SOA of example.test with its own TTL and its minimum (together they bound a negative TTL). */
export const soa = (ttl: number, minimum: number): Rr =>
  rr(
    'example.test.',
    Type.SOA,
    ttl,
    'ns1.example.test.',
    'hostmaster.example.test.',
    '1',
    '7200',
    '900',
    '1209600',
    String(minimum),
  )

/** Writes `r` in class IN; its names are compressed against what `w` already holds. */
export function writeRr(w: WireWriter, r: Rr): void {
  const tokens = r.data.map((text) => ({ text, quoted: false }))
  w.record(fqdnWire(r.name), r.type, 1, r.ttl, rdataFromText(r.type, tokens, ROOT_WIRE))
}
