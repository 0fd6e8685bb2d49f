// Record events: one record created, deleted, or updated (the old record
// deleted, the new one created, so an update that renames a record leaves
// nothing at the old name), each with its place in the event sequence. The
// record's data is in presentation form and parsed as a master file line.

import { z } from 'zod'
import { CutoverError } from '../../common/cutover-error.ts'
import { parseMasterFile } from '../../dns/master-file.ts'
import type { RecordChange } from './zone-edit.ts'

/** An event's place in its sequence: `<major>-<minor>`, a Redis stream id or a journal line (`<n>-0`). */
export type Sequence = string

const SEQUENCE = /^\d{1,20}-\d{1,20}$/

/** Negative, zero or positive as `a` comes before, with or after `b`. */
export function compareSequence(a: Sequence, b: Sequence): number {
  const [am, an] = a.split('-').map(BigInt)
  const [bm, bn] = b.split('-').map(BigInt)
  return am !== bm ? (am < bm ? -1 : 1) : an === bn ? 0 : an < bn ? -1 : 1
}

/** One record in presentation form. */
export const recordSchema = z.strictObject({
  name: z.string().min(1).max(1025),
  type: z.string().min(1).max(16),
  ttl: z.int().min(0).max(2_147_483_647).optional(),
  data: z.string().max(65_535),
})

export const recordEventSchema = z.strictObject({
  /** Optional, the publisher's own: the admin API waits for its event by it. */
  id: z.string().max(100).optional(),
  op: z.enum(['create', 'delete', 'update']),

  zone: z.string().min(1).max(255),
  ...recordSchema.shape,
  /** For `update`: the record it replaces. */
  old: recordSchema.optional(),
})

export type RecordEventBody = z.output<typeof recordEventSchema>

export interface RecordEvent extends RecordEventBody {
  sequence: Sequence
}

export function isSequence(text: string): boolean {
  return SEQUENCE.test(text)
}

/** One record in presentation form, parsed in `zone`; names may be relative to it. */
function change(
  op: RecordChange['op'],
  zone: string,
  r: z.output<typeof recordSchema>,

  defaultTtl: number,
): RecordChange {
  const line = `${r.name} ${r.ttl ?? defaultTtl} IN ${r.type} ${r.data}\n`
  if (r.data.includes('\n') || r.name.includes('\n'))
    throw new CutoverError('ZONE_DATA', 'a record event holds one record on one line')
  const parsed = parseMasterFile({ text: line, file: 'event' }, { origin: zone })
  if (parsed.records.length !== 1)
    throw new CutoverError('ZONE_DATA', `${r.name} is outside ${zone}`)
  const [rr] = parsed.records
  return { op, owner: rr.owner, type: rr.type, ttl: rr.ttl, rdata: rr.rdata }
}

/**
 * The changes an event makes, in order. Throws ZONE_DATA naming what does not
 * parse. A delete needs no TTL; a create without one takes `defaultTtl`.
 */
export function changesOf(event: RecordEventBody, defaultTtl: number): RecordChange[] {
  switch (event.op) {
    case 'create':
      return [change('create', event.zone, event, defaultTtl)]
    case 'delete':
      return [change('delete', event.zone, event, defaultTtl)]
    case 'update':
      if (!event.old)
        throw new CutoverError('ZONE_DATA', 'an update names the record it replaces in "old"')
      return [
        change('delete', event.zone, event.old, defaultTtl),
        change('create', event.zone, event, defaultTtl),
      ]
  }
}
