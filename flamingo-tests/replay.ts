// Commands that replay a case by hand against one target: `dig` for DNS (or
// `curl` for DoH), `curl` for HTTP, with the signed force headers for the
// candidate (valid for five minutes; the token itself is not in them).

import type { DnsCase, HttpCase } from './suite.ts'
import { forceNewHeaders, type TargetSpec } from './targets.ts'

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

export function digCommand(c: DnsCase, t: TargetSpec, query: Buffer): string {
  if (c.transport === 'doh') {
    return `curl -s ${quote(`${t.doh}?dns=${query.toString('base64url')}`)} -H 'accept: application/dns-message' | xxd`
  }
  const flags = [
    c.transport === 'tcp' ? '+tcp' : '+notcp',
    c.edns === false ? '+noedns' : `+bufsize=${c.edns}`,
    c.do ? '+dnssec' : '',
    c.rd ? '' : '+norec',
    '+nocookie',
  ].filter(Boolean)
  const klass = c.class === 'IN' ? '' : ` -c ${c.class}`
  return `dig @${t.dns?.host} -p ${t.dns?.port} ${quote(c.name)} ${c.type.toUpperCase()}${klass} ${flags.join(' ')}`
}

export function curlCommand(c: HttpCase, t: TargetSpec): string {
  const parts = ['curl -si', `-X ${c.method}`, `-H ${quote(`Host: ${c.host}`)}`]
  const forced = t.forceNewWith ? forceNewHeaders(c, t.forceNewWith) : {}
  for (const [k, v] of [...Object.entries(c.headers), ...Object.entries(forced)])
    parts.push(`-H ${quote(`${k}: ${v}`)}`)
  if (c.body !== undefined) parts.push(`--data-binary ${quote(c.body)}`)
  parts.push(quote(`${t.http}${c.path}`))
  return parts.join(' ')
}
