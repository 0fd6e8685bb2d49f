// Header rewriting at the proxy hop (RFC 9110 section 7.6): hop-by-hop fields
// (the fixed set and any named in Connection) go; X-Forwarded-For,
// X-Forwarded-Proto and Via are added; Host stays as the client sent it. An
// upgrade's Connection and Upgrade are set again by each hop for its own connection.

import { isField } from '../common/header-list.ts'

/** Fields that describe one connection, never forwarded (RFC 9110 7.6.1, plus the old Keep-Alive and Proxy-Connection). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

export const VIA = '1.1 cutover'

/** The names listed in Connection headers, lowercased (they are hop-by-hop too). */
function connectionOptions(raw: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    if (!isField(raw[i], 'connection')) continue
    for (const token of raw[i + 1].split(',')) {
      const t = token.trim().toLowerCase()
      // A client may not strip Host from what the next hop sees. `close` and
      // the fixed hop-by-hop names (keep-alive) go anyway: no set to make for them.
      if (!t || t === 'host' || t === 'close' || HOP_BY_HOP.has(t)) continue
      named ??= new Set()
      named.add(t)
    }
  }
  return named
}

/** Name lengths of the fields that may be dropped: a field of another length is kept without being lowercased. */
function lengthsOf(...sets: (ReadonlySet<string> | undefined)[]): Set<number> {
  const lengths = new Set<number>()
  for (const set of sets) for (const name of set ?? []) lengths.add(name.length)
  return lengths
}

const HOP_BY_HOP_LENGTHS = lengthsOf(HOP_BY_HOP)

/** `raw` (flat name/value list) without hop-by-hop fields and without the names in `drop`. */
export function endToEnd(
  raw: readonly string[],
  drop?: ReadonlySet<string>,
  /** The lengths of the names that may go: given with a fixed `drop`, made once. */
  dropLengths: ReadonlySet<number> = drop ? lengthsOf(HOP_BY_HOP, drop) : HOP_BY_HOP_LENGTHS,
): string[] {
  const named = connectionOptions(raw)
  const lengths = named ? lengthsOf(HOP_BY_HOP, named, drop) : dropLengths
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    if (lengths.has(raw[i].length)) {
      const name = raw[i].toLowerCase()
      if (HOP_BY_HOP.has(name) || named?.has(name) || drop?.has(name)) continue
    }
    out.push(raw[i], raw[i + 1])
  }
  return out
}

/** Request fields this proxy answers itself (Node sends 100 Continue) or sets itself. */
const REQUEST_DROP = new Set(['expect', 'x-forwarded-proto'])
const REQUEST_DROP_LENGTHS = lengthsOf(HOP_BY_HOP, REQUEST_DROP)

/** Folds every `name` field of `list` into one comma list ending with `value`. */
function appendToList(list: string[], name: string, value: string): void {
  let joined: string | undefined
  for (let i = 0; i < list.length; ) {
    if (isField(list[i], name)) {
      joined = joined === undefined ? list[i + 1] : `${joined}, ${list[i + 1]}`
      list.splice(i, 2)
    } else {
      i += 2
    }
  }
  list.push(name, joined === undefined ? value : `${joined}, ${value}`)
}

/** Request headers for the next hop: end-to-end fields, then X-Forwarded-For, -Proto and Via. */
export function forwardRequestHeaders(
  raw: readonly string[],
  clientIp: string,
  protocol: 'http' | 'https',
  via = VIA,
): string[] {
  const out = endToEnd(raw, REQUEST_DROP, REQUEST_DROP_LENGTHS)
  appendToList(
    out,
    'x-forwarded-for',
    clientIp.startsWith('::ffff:') && clientIp.includes('.') ? clientIp.slice(7) : clientIp,
  )
  out.push('x-forwarded-proto', protocol)
  appendToList(out, 'via', via)
  return out
}

/** Response headers for the client: end-to-end fields from the upstream, then Via. */
export function forwardResponseHeaders(raw: readonly string[], via = VIA): string[] {
  const out = endToEnd(raw)
  appendToList(out, 'via', via)
  return out
}

/**
 * Headers of a 101 for the client: as for any response, then the two
 * hop-by-hop fields this hop sets again for its own connection, Connection:
 * upgrade and the Upgrade the upstream switched to.
 */
export function forwardUpgradeHeaders(raw: readonly string[], via = VIA): string[] {
  const out = forwardResponseHeaders(raw, via)
  out.push('connection', 'upgrade')
  for (let i = 0; i < raw.length; i += 2)
    if (isField(raw[i], 'upgrade')) out.push('upgrade', raw[i + 1])
  return out
}

const VIA_2 = '2 cutover'
const VIA_1_0 = '1.0 cutover'

/** This hop's Via entry for a message received as HTTP `major`.`minor` (RFC 9110 section 7.6.3). */
export function viaOf(major: number, minor: number): string {
  if (major === 2) return VIA_2
  return minor === 0 ? VIA_1_0 : VIA
}
