// authoritative: answers queries for the zones migrated to the new path from
// their master files, as BIND would, by copying precomputed answers.

import { CutoverError } from '../../common/cutover-error.ts'
import { Flag, HEADER_LENGTH, Opcode, Rcode, Type } from '../../dns/constants.ts'
import { fqdnWire, nameKey } from '../../dns/name.ts'
import { NameTable } from '../../dns/name-table.ts'
import type { DnsContext, DnsModule } from '../dns-module.ts'
import type { ModuleEnv } from '../env.ts'
import { ANSWER, legacy, NEXT, type Verdict } from '../verdict.ts'
import type { Answer } from './answer.ts'
import { nameCover } from './denial.ts'
import { loadZone, type ZoneSource } from './load.ts'
import { Found, locate, newLocation } from './locate.ts'
import { negativeAnswer, provenNxdomain } from './negative.ts'
import { changesOf, compareSequence, type RecordEvent, type Sequence } from './record-event.ts'
import { dnameAnswer, nodeAnswer, referralAnswer, wildcardAnswer } from './resolve.ts'
import { writeAnswer } from './respond.ts'
import { readSigningKeys } from './signing-keys.ts'
import { type SnapshotPlace, writeSnapshot } from './snapshot.ts'
import type { Zone } from './zone.ts'
import { applyChange, bumpSerial, type RecordChange, refreshSignatures } from './zone-edit.ts'
import { DEFAULT_VALIDITY, dueForRefresh, type ZoneSigner } from './zone-signer.ts'

/** How often a signed zone's signatures are checked for expiry, and how many are made per turn of the event loop. */
const REFRESH_EVERY_MS = 3_600_000
const REFRESH_BATCH = 200

/** The signer of `zone` with the keys in `dir`; throws when `zone` is not signed or no key signs it. */
function signerOf(zone: Zone, dir: string, env: ModuleEnv, now: () => number): ZoneSigner {
  if (!zone.signed)
    throw new CutoverError(
      'ZONE_DATA',
      `${zone.name} has keys: ${dir} but is not signed: sign it with dnssec-signzone, or remove keys:`,
    )
  const keys = readSigningKeys(dir, zone, now())
  if (!keys.some((k) => k.ksk))
    env.log.warn(
      { module: NAME, zone: zone.name, keys: dir },
      'no key-signing key here: the DNSKEY RRset keeps the signatures it was loaded with, which are not refreshed',
    )
  return { keys, validity: DEFAULT_VALIDITY, refresh: DEFAULT_VALIDITY / 4, now }
}

/**
 * Signs again, every hour and in batches between queries, the signatures of
 * `zones` that come within their refresh window, as BIND's re-signing does.
 */
function startRefresh(zones: readonly Zone[]): { stop(): void } {
  if (zones.length === 0) return { stop() {} }
  let pending: NodeJS.Immediate | undefined
  const pass = () => {
    const passes = zones.map((zone) => ({ zone, due: dueForRefresh(zone, zone.signer!) }))
    const turn = () => {
      pending = undefined
      const more = passes.filter((p) => refreshSignatures(p.zone, p.due, REFRESH_BATCH))
      if (more.length > 0) pending = setImmediate(turn)
      passes.splice(0, passes.length, ...more)
    }
    turn()
  }
  pass()
  const timer = setInterval(() => {
    if (pending === undefined) pass()
  }, REFRESH_EVERY_MS).unref()
  return {
    stop() {
      clearInterval(timer)
      if (pending !== undefined) clearImmediate(pending)
    },
  }
}

export interface AuthoritativeOptions {
  zones: readonly ZoneSource[]
  /** Where zone snapshots are read and written (snapshot.ts); none without it. */
  snapshots?: SnapshotPlace
  /** The time in milliseconds signatures are made and refreshed by (a test's clock). */
  now?: () => number
}

export const NAME = 'authoritative'

/** Why a query goes to the legacy path instead; the `reason` label of cutover_fallbacks_total. */
export const Fallback = {
  opcode: legacy('opcode'),
  class: legacy('class'),
  any: legacy('qtype-any'),
  transfer: legacy('zone-transfer'),
  metaType: legacy('qtype-meta'),
  proof: legacy('dnssec-proof'),
  signatures: legacy('qtype-rrsig'),
  ednsVersion: legacy('edns-version'),
  extraRecords: legacy('extra-records'),
} as const

export interface AuthoritativeModule extends DnsModule {
  unsupported(zone: string): string | undefined
  /** The zone serving `name`, for tools and tests. */
  zone(name: string): Zone | undefined
  /**
   * Applies a record event to its zone in place (a per-record build). An event
   * at or below the zone's sequence was applied already and is skipped.
   */
  apply(event: RecordEvent): EventOutcome
  /** The lowest sequence a zone is consistent with: a replay of the log may start after it. */
  position(): Sequence
  /** The highest sequence a zone is consistent with: the log must reach it. */
  newest(): Sequence
  /**
   * Writes a snapshot of every zone as consistent with `at` (every event up to
   * it seen), unless its last snapshot is as recent; returns the zones written.
   */
  snapshot(at: Sequence): number
}

export type EventOutcome = { result: 'applied' | 'skipped' } | { result: 'refused'; reason: string }

export function authoritative(options: AuthoritativeOptions, env: ModuleEnv): AuthoritativeModule {
  const zones = new NameTable<Zone>()
  const snapshotAt = new Map<Zone, Sequence>()
  for (const source of options.zones) {
    const built = loadZone(source, options.snapshots)
    for (const warning of built.warnings)
      env.log.warn({ module: NAME, zone: built.zone.name }, warning)
    if (source.keys !== undefined)
      built.zone.signer = signerOf(built.zone, source.keys, env, options.now ?? Date.now)
    zones.set(built.zone.origin, built.zone)
    snapshotAt.set(built.zone, built.zone.sequence)
    env.log.info(
      {
        module: NAME,
        zone: built.zone.name,
        names: built.zone.nodes.size,
        from: built.from,
        sequence: built.zone.sequence,
        signed: built.zone.signed,
        keys: built.zone.signer?.keys.map((k) => k.tag),
      },
      'zone loaded',
    )
  }
  const at = newLocation()
  const refresher = startRefresh([...zones.values()].filter((z) => z.signer !== undefined))

  return {
    name: NAME,

    unsupported(zone) {
      const key = nameKey(zone)
      return zones.get(fqdnWire(key)) ? undefined : `no zone data for ${key}`
    },

    zone(name) {
      return zones.get(fqdnWire(name))
    },

    apply(event) {
      const zone = zones.get(fqdnWire(event.zone))
      if (!zone) return { result: 'refused', reason: `no zone ${event.zone} on the new path` }
      if (zone.signed && zone.signer === undefined)
        return {
          result: 'refused',
          reason: `${zone.name} is signed and the new path has no keys to sign a change: set keys: to the folder of its BIND key files, or change it where it is signed and reload`,
        }
      if (compareSequence(event.sequence, zone.sequence) <= 0) return { result: 'skipped' }
      zone.sequence = event.sequence
      let changes: RecordChange[]
      try {
        changes = changesOf(event, zone.soa.ttl)
      } catch (err) {
        return { result: 'refused', reason: (err as Error).message }
      }
      const done: RecordChange[] = []
      for (const c of changes) {
        // The RRset's TTL as it was, to put a deleted record back as it was.
        const ttl = zone.nodes.get(c.owner)?.rrsets.get(c.type)?.ttl ?? c.ttl
        const r = applyChange(zone, c)
        if (r.refused === undefined) {
          if (r.changed) done.push({ ...c, ttl })
          continue
        }

        // An update is whole or nothing: put back what its first half took away.
        for (const d of done.reverse())
          applyChange(zone, { ...d, op: d.op === 'create' ? 'delete' : 'create' })
        return { result: 'refused', reason: r.refused }
      }
      if (done.length > 0 && !done.some((c) => c.type === Type.SOA)) bumpSerial(zone)
      return { result: 'applied' }
    },

    position() {
      let lowest: Sequence | undefined
      for (const zone of zones.values())
        if (lowest === undefined || compareSequence(zone.sequence, lowest) < 0)
          lowest = zone.sequence
      return lowest ?? '0-0'
    },

    newest() {
      let highest: Sequence = '0-0'
      for (const zone of zones.values())
        if (compareSequence(zone.sequence, highest) > 0) highest = zone.sequence
      return highest
    },

    snapshot(at) {
      if (options.snapshots === undefined) return 0
      let written = 0
      for (const zone of zones.values()) {
        if (compareSequence(at, snapshotAt.get(zone) ?? '0-0') <= 0) continue
        if (!writeSnapshot(options.snapshots, zone, at)) continue
        snapshotAt.set(zone, at)
        written++
      }
      return written
    },

    close() {
      refresher.stop()
    },

    query(ctx: DnsContext): Verdict {
      const v = ctx.view
      if (v.opcode !== Opcode.QUERY) return Fallback.opcode
      if (v.qclass !== 1) return Fallback.class
      const qtype = v.qtype
      if (qtype >= 128 && qtype <= 255) {
        if (qtype === Type.ANY) return Fallback.any
        return qtype === Type.AXFR || qtype === Type.IXFR ? Fallback.transfer : Fallback.metaType
      }
      if (qtype === 0 || qtype === Type.OPT) return Fallback.metaType
      if (v.edns && v.ednsVersion !== 0) return Fallback.ednsVersion
      if (v.extraRecords) return Fallback.extraRecords

      const buf = ctx.query
      const zone = zones.enclosing(buf, v)
      if (zone === undefined) return NEXT
      // Signatures carry the TTL of what they cover, which an RRset here does not keep apart.
      if (zone.signed && qtype === Type.RRSIG) return Fallback.signatures
      locate(zone, buf, v, v.labels - zone.labels, at)
      const form = zone.extras.length > 1 && (v.flags & Flag.RD) === 0 ? 1 : 0
      // An unsigned zone's answers are the same with DO; only the OPT record says it was seen.
      const dnssec = v.ednsDo && zone.signed
      let answer: Answer | null
      switch (at.kind) {
        case Found.NODE:
          answer = nodeAnswer(zone, at.node, qtype, form, dnssec)
          break
        case Found.CUT:
          // DS, and the NSEC that proves what the cut holds, live on the parent side (RFC 4035 section 2.4).
          answer =
            at.label === 0 &&
            (qtype === Type.DS || (qtype === Type.NSEC && at.node.rrsets.has(Type.NSEC)))
              ? nodeAnswer(zone, at.node, qtype, form, dnssec)
              : referralAnswer(zone, at.node, dnssec)
          break
        case Found.WILDCARD:
          answer = wildcardAnswer(
            zone,
            at.node,
            qtype,
            form,
            dnssec,
            dnssec ? nameCover(zone, buf, v, at.label) : undefined,
          )
          break
        case Found.DNAME:
          answer = dnameAnswer(
            zone,
            at.node,
            Buffer.from(buf.subarray(HEADER_LENGTH, v.qnameEnd)),
            buf.subarray(HEADER_LENGTH, v.labelStart[at.label]),
            qtype,
            form,
            dnssec,
          )
          break
        default:
          answer = dnssec
            ? provenNxdomain(zone, buf, v, at.label, at.node, qtype)
            : negativeAnswer(zone, Rcode.NXDOMAIN, qtype)
      }
      if (answer === null) return Fallback.proof
      writeAnswer(ctx, answer)
      return ANSWER
    },
  }
}
