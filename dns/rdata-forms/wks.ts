// WKS records (RFC 1035 section 3.4.2): `address protocol service...` to wire and back,
// as BIND 9.18 reads them (names for the well-known services) and prints them (numbers).

import { Type } from '../constants.ts'
import { formatIPv4, parseIPv4 } from '../ip.ts'
import type { Token } from '../rdata.ts'
import type { RdataCodec } from './codec.ts'
import { rdataError } from './rdata-error.ts'

const TCP = 6
const UDP = 17

/** The protocol names getprotobyname knows for TCP and UDP (Debian's /etc/protocols). */
const PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['tcp', TCP],
  ['TCP', TCP],
  ['udp', UDP],
  ['UDP', UDP],
])

/**
 * BIND asks getservbyname, which reads /etc/services; this is a fixed copy of its
 * well-known entries (Debian netbase 6.4): port, protocols, name and aliases.
 */
const WELL_KNOWN = `
7 tcp,udp echo
9 tcp,udp discard sink null
13 tcp,udp daytime
19 tcp,udp chargen ttytst source
20 tcp ftp-data
21 tcp ftp
22 tcp ssh
23 tcp telnet
25 tcp smtp mail
37 tcp,udp time timserver
43 tcp whois nicname
53 tcp,udp domain
67 udp bootps
68 udp bootpc
69 udp tftp
70 tcp gopher
79 tcp finger
80 tcp http www
88 tcp,udp kerberos kerberos5 krb5 kerberos-sec
110 tcp pop3 pop-3
111 tcp,udp sunrpc portmapper
113 tcp auth authentication tap ident
119 tcp nntp readnews untp
123 udp ntp
143 tcp imap2 imap
161 tcp,udp snmp
162 tcp,udp snmp-trap snmptrap
179 tcp bgp
389 tcp,udp ldap
443 tcp,udp https
465 tcp submissions ssmtp smtps urd
587 tcp submission
636 tcp,udp ldaps
853 tcp,udp domain-s
993 tcp imaps
995 tcp pop3s
`

/** Service name -> port, per protocol number; `any` for other protocols (BIND asks for any). */
const SERVICES = (() => {
  const tables = { tcp: new Map<string, number>(), udp: new Map<string, number>() }
  const any = new Map<string, number>()
  for (const line of WELL_KNOWN.trim().split('\n')) {
    const [port, protocols, ...names] = line.split(' ')
    for (const name of names) {
      any.set(name, Number(port))
      for (const p of protocols.split(',')) tables[p as 'tcp' | 'udp'].set(name, Number(port))
    }
  }
  return { [TCP]: tables.tcp, [UDP]: tables.udp, any } as const
})()

/** The most bitmap a record can hold: a bit for each port 0-65535. */
const MAX_BITMAP = 8192

function fail(token: string | undefined, why: string): Error {
  return rdataError(Type.WKS, token, why)
}

function plain(token: Token | undefined, what: string): string {
  if (token === undefined) throw fail(undefined, `expected ${what}`)
  if (token.quoted) throw fail(token.text, `expected ${what}, not a quoted string`)
  return token.text
}

/** A number as C's strtol reads a whole token (a sign allowed); undefined when it is none. */
function signedNumber(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined
}

function protocolOf(text: string): number {
  const protocol = signedNumber(text) ?? PROTOCOLS.get(text)
  if (protocol === undefined) throw fail(text, 'expected a protocol number or tcp or udp')
  if (protocol < 0 || protocol > 0xff) throw fail(text, 'expected a protocol from 0 to 255')
  return protocol
}

function portOf(text: string, services: ReadonlyMap<string, number>): number {
  // BIND lowers ASCII letters only before it asks (names are case-insensitive).
  const port = signedNumber(text) ?? services.get(text.replace(/[A-Z]/g, (c) => c.toLowerCase()))
  if (port === undefined) throw fail(text, 'expected a port number or a well-known service name')
  if (port < 0 || port > 0xffff) throw fail(text, 'expected a port from 0 to 65535')
  return port
}

function fromText(tokens: readonly Token[]): Buffer {
  const addressText = plain(tokens[0], 'an IPv4 address')
  const address = parseIPv4(addressText)
  if (!address) throw fail(addressText, 'expected an IPv4 address')
  const protocol = protocolOf(plain(tokens[1], 'a protocol'))
  const services = protocol === TCP || protocol === UDP ? SERVICES[protocol] : SERVICES.any
  const bitmap = new Uint8Array(MAX_BITMAP)
  let length = 0
  for (let i = 2; i < tokens.length; i++) {
    const port = portOf(plain(tokens[i], 'a service'), services)
    bitmap[port >> 3] |= 0x80 >> (port & 7)
    length = Math.max(length, (port >> 3) + 1)
  }
  return Buffer.concat([address, Buffer.of(protocol), bitmap.subarray(0, length)])
}

function toText(msg: Uint8Array, start: number, end: number): string | undefined {
  const length = end - start
  // BIND refuses a bitmap with a trailing zero octet, as it would never write one.
  if (length < 5 || length > 5 + MAX_BITMAP || (length > 5 && msg[end - 1] === 0)) return undefined
  const parts = [formatIPv4(msg, start), String(msg[start + 4])]
  for (let i = start + 5; i < end; i++)
    for (let bit = 0; bit < 8; bit++)
      if (msg[i] & (0x80 >> bit)) parts.push(String((i - start - 5) * 8 + bit))
  return parts.join(' ')
}

export const wks: RdataCodec = { fromText, toText }
