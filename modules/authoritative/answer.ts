// A precomputed answer: everything after the question, in wire form, with the
// pointer fixups that aim it at whatever question it is served behind.

import { Flag, HEADER_LENGTH } from '../../dns/constants.ts'
import type { Rdata } from '../../dns/rdata.ts'
import { WireWriter } from '../../dns/wire-writer.ts'
import type { NodataProof } from './denial.ts'

export interface AnswerRecord {
  /** Owner name; undefined means the question name itself. */
  owner: Buffer | undefined
  type: number
  ttl: number
  rdata: Rdata
}

export interface Sections {
  rcode: number
  authoritative: boolean
  answer: AnswerRecord[]
  authority: AnswerRecord[]
  /** Authority records a small UDP reply leaves out (the zone's NS RRset), after `authority`. */
  optionalAuthority: AnswerRecord[]
  additional: AnswerRecord[]
  /** Signatures wanted (a DO query to a signed zone): each RRset is followed by its RRSIGs. */
  dnssec: boolean
  /** The answer needs a proof of absence this path does not build (two wildcards in one chain). */
  needsProof: boolean
  /** The proof that no closer name exists, for an answer synthesised from a wildcard. */
  wildcardProof?: NodataProof
}

export interface Answer {
  /** AA and rcode bits to OR into the response flags. */
  flags: number
  an: number
  ns: number
  ar: number
  /** Answer, authority and additional sections. */
  body: Buffer
  /** Where the optional authority records start in `body`, and how many authority records come before. */
  optionalStart: number
  nsRequired: number
  /** Where the additional section starts in `body` (it may be dropped to fit). */
  arStart: number
  /** Pairs (position in body, target): see WireWriter.fixups. */
  fixups: Int32Array
  /**
   * What a client offering no more than 512 octets over UDP gets instead, where
   * that is not this answer cut short: a wildcard's proof comes after the zone's
   * NS but stays when they go.
   */
  minimal?: Answer
}

/**
 * How the question name relates to the data: `exact` when the question is always
 * `name` (pointers into it are absolute), `below` when it is `name` or any name
 * under it (pointers into it are measured from its end).
 */
export type QuestionShape = { kind: 'exact'; name: Buffer } | { kind: 'below'; name: Buffer }

export function emptySections(rcode = 0, authoritative = true, dnssec = false): Sections {
  return {
    rcode,
    authoritative,
    answer: [],
    authority: [],
    optionalAuthority: [],
    additional: [],
    dnssec,
    needsProof: false,
  }
}

// Answers are encoded one at a time, synchronously, and copied out: one buffer
// to write them in serves all (a new 64 KiB buffer per answer was most of a
// large zone's build time).
const scratch = Buffer.alloc(65535)

export function encodeAnswer(s: Sections, shape: QuestionShape): Answer {
  // Behind a known question the sections' own offsets are known too: no fixups for them.
  const w = new WireWriter(
    shape.kind === 'exact' ? HEADER_LENGTH + shape.name.length + 4 : undefined,
    scratch,
  )
  w.seed(
    shape.name,
    shape.kind === 'exact'
      ? { kind: 'abs', offset: HEADER_LENGTH }
      : { kind: 'tail', length: shape.name.length },
  )
  const write = (r: AnswerRecord) => w.record(r.owner, r.type, 1, r.ttl, r.rdata)
  s.answer.forEach(write)
  s.authority.forEach(write)
  const optionalStart = w.pos
  s.optionalAuthority.forEach(write)
  const arStart = w.pos
  s.additional.forEach(write)
  return {
    flags: (s.authoritative ? Flag.AA : 0) | s.rcode,
    an: s.answer.length,
    ns: s.authority.length + s.optionalAuthority.length,
    ar: s.additional.length,
    body: w.take(),
    optionalStart,
    nsRequired: s.authority.length,
    arStart,
    fixups: w.fixups(),
  }
}
