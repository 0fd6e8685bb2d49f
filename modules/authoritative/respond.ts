// Serves a precomputed answer: header from the query, the question copied as
// received (its case echoed, 0x20-safe), the answer body with its pointers aimed
// at this question, an OPT record when the query had one, truncation to fit.

import { CLASSIC_UDP_LIMIT, Flag, Type } from '../../dns/constants.ts'
import { skipName } from '../../dns/query-view.ts'
import { ECHOED_FLAGS } from '../../dns/reply.ts'
import type { DnsContext } from '../dns-module.ts'
import type { Answer } from './answer.ts'

const OPT_LENGTH = 11

/** Writes the response for `answer` into ctx.out and points ctx.response at it. */
export function writeAnswer(ctx: DnsContext, given: Answer): void {
  const { query, view, out } = ctx
  const opt = view.edns ? OPT_LENGTH : 0
  // As BIND does: an EDNS client offering no more than 512 octets over UDP
  // gets a minimal answer, without the zone's NS RRset or extra addresses.
  const minimal =
    opt !== 0 &&
    ctx.transport === 'udp' &&
    view.ednsUdpSize <= CLASSIC_UDP_LIMIT &&
    (given.flags & Flag.AA) !== 0
  const answer = (minimal && given.minimal) || given
  const base = view.questionEnd
  query.copy(out, 0, 0, base)
  answer.body.copy(out, base)
  const fixups = answer.fixups
  const qnameEnd = view.qnameEnd
  for (let i = 0; i < fixups.length; i += 2) {
    const t = fixups[i + 1]
    const target = t >= 0 ? base + t : qnameEnd + t
    const at = base + fixups[i]
    out[at] = 0xc0 | (target >> 8)
    out[at + 1] = target & 0xff
  }

  let flags = Flag.QR | (view.flags & ECHOED_FLAGS) | answer.flags
  let an = answer.an
  let ns = answer.ns
  let ar = answer.ar
  let end = base + answer.body.length
  if (minimal) {
    end = base + answer.optionalStart
    ns = answer.nsRequired
    ar = 0
  }
  if (end + opt > ctx.sizeLimit) {
    // Extra addresses may go; a referral's glue may not (RFC 9471), nor the
    // answer or the authority section (BIND sets TC when they do not fit).
    const withoutAdditional = base + answer.arStart
    if (
      end > withoutAdditional &&
      withoutAdditional + opt <= ctx.sizeLimit &&
      (answer.flags & Flag.AA) !== 0
    ) {
      // As BIND renders it: the additional records that fit, in order, up to the first that does not.
      end = withoutAdditional
      let kept = 0
      for (; kept < ar; kept++) {
        const next = skipName(out, end, out.length) + 10
        const after = next + ((out[next - 2] << 8) | out[next - 1])
        if (after + opt > ctx.sizeLimit) break
        end = after
      }
      ar = kept
    } else {
      flags |= Flag.TC
      end = base
      an = ns = ar = 0
    }
  }
  if (opt) {
    out[end] = 0
    out.writeUInt16BE(Type.OPT, end + 1)
    out.writeUInt16BE(ctx.ednsPayload, end + 3)
    // Extended RCODE and version 0; DO echoed (RFC 3225).
    out.writeUInt32BE(view.ednsDo ? 0x8000 : 0, end + 5)
    out.writeUInt16BE(0, end + 9)
    end += OPT_LENGTH
    ar++
  }
  out.writeUInt16BE(flags, 2)
  out.writeUInt16BE(1, 4)
  out.writeUInt16BE(an, 6)
  out.writeUInt16BE(ns, 8)
  out.writeUInt16BE(ar, 10)
  ctx.response = out
  ctx.responseLength = end
}
