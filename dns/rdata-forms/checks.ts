// What BIND 9.18 refuses in record data that parses: digests of the wrong
// length for their algorithm (DS and its kin, SSHFP, ZONEMD), a NAPTR regexp
// that is not `delim ERE delim replacement delim [i]` or refers to a group it
// lacks, an NSEC listing no type, and the obsolete MD and MF types. Each gives the reason, or undefined.

import { Type } from '../constants.ts'
import { wireLength } from '../name.ts'

/** Digest lengths by digest type: DS, CDS, TA, DLV (RFC 4509, 5933, 6605). */
const DS_DIGESTS = new Map([
  [1, 20],
  [2, 32],
  [3, 32],
  [4, 48],
])
const SSHFP_DIGESTS = new Map([
  [1, 20],
  [2, 32],
])
/** ZONEMD digests by hash algorithm, for scheme 1 (SIMPLE). */
const ZONEMD_DIGESTS = new Map([
  [1, 48],
  [2, 64],
])

function digestLength(
  kind: string,
  lengths: Map<number, number>,
  algorithm: number,
  length: number,
) {
  const want = lengths.get(algorithm)
  return want === undefined || want === length
    ? undefined
    : `a ${kind} digest of type ${algorithm} has ${want} octets, not ${length}`
}

const CHECKS = new Map<number, (wire: Buffer) => string | undefined>([
  [Type.MD, () => 'type MD is obsolete (RFC 973): use MX'],
  [Type.MF, () => 'type MF is obsolete (RFC 973): use MX'],
  ...[Type.DS, Type.CDS, Type.TA, Type.DLV].map(
    (t) => [t, (w: Buffer) => digestLength('DS', DS_DIGESTS, w[3], w.length - 4)] as const,
  ),
  [Type.SSHFP, (w) => digestLength('SSHFP', SSHFP_DIGESTS, w[1], w.length - 2)],
  [
    Type.ZONEMD,
    (w) => (w[4] === 1 ? digestLength('ZONEMD', ZONEMD_DIGESTS, w[5], w.length - 6) : undefined),
  ],
  [Type.NAPTR, naptrRegexp],
  [
    Type.NSEC,
    (w) => (wireLength(w, 0) === w.length ? 'an NSEC record lists at least one type' : undefined),
  ],
])

/** Why BIND would refuse this (parsed, well-formed) rdata of `type`; undefined when it would not. */
export function refusedRdata(type: number, wire: Buffer): string | undefined {
  return CHECKS.get(type)?.(wire)
}

/** The NAPTR regexp field (RFC 3403 section 4.1), as BIND checks it. */
function naptrRegexp(wire: Buffer): string | undefined {
  let at = 4
  for (let i = 0; i < 2; i++) at += 1 + wire[at]
  const regexp = wire.subarray(at + 1, at + 1 + wire[at]).toString('latin1')
  return regexp === '' ? undefined : regexpProblem(regexp)
}

function regexpProblem(text: string): string | undefined {
  const delim = text[0]
  if (delim === '\\' || /[0-9]/.test(delim) || delim === '\0')
    return `the NAPTR regexp delimiter cannot be '${delim}'`
  const parts: string[] = ['']
  for (let i = 1; i < text.length; i++) {
    const ch = text[i]
    if (ch === '\\' && i + 1 < text.length && text[i + 1] === delim) {
      parts[parts.length - 1] += text[++i]
      continue
    }
    if (ch === '\\' && i + 1 < text.length) {
      parts[parts.length - 1] += ch + text[++i]
      continue
    }
    if (ch === delim) parts.push('')
    else parts[parts.length - 1] += ch
  }
  const [ere, replacement, flags, ...extra] = parts
  if (flags === undefined || extra.length > 0 || !/^i?$/.test(flags))
    return `the NAPTR regexp is not ${delim}ERE${delim}replacement${delim} with an optional flag i`
  const groups = [...ere.matchAll(/(?<!\\)\(/g)].length
  for (const [, digit] of replacement.matchAll(/\\([0-9])/g))
    if (Number(digit) > groups)
      return `the NAPTR regexp replacement refers to \\${digit} but the ERE has ${groups} group(s)`
  return undefined
}
