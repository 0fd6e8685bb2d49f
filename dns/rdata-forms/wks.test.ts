// The WKS codec against BIND 9.18: named-compilezone reads the same records (and the
// wire we make, as `\#`), and what it prints, refuses or cannot print is what we do.

import { describe, expect, it } from 'vitest'
import { describeAgainstBind, hex, ORIGIN, tokens, wireOf } from './bind-reference.test-support.ts'
import { wks } from './wks.ts'

// --- WKS ---

/** Every service name WKS knows for TCP and for UDP: BIND's getservbyname checks them. */
const TCP_NAMES =
  'echo discard sink null daytime chargen ttytst source ftp-data ftp ssh telnet smtp mail time timserver whois nicname domain gopher finger http www kerberos kerberos5 krb5 kerberos-sec pop3 pop-3 sunrpc portmapper auth authentication tap ident nntp readnews untp imap2 imap snmp snmp-trap snmptrap bgp ldap https submissions ssmtp smtps urd submission ldaps domain-s imaps pop3s'
const UDP_NAMES =
  'echo discard sink null daytime chargen ttytst source time timserver domain bootps bootpc tftp kerberos kerberos5 krb5 kerberos-sec sunrpc portmapper ntp snmp snmp-trap snmptrap ldap https ldaps domain-s'

/** Records BIND takes; the first three name every known service, for another protocol too. */
const ACCEPTED = [
  `192.0.2.1 tcp ${TCP_NAMES}`,
  `192.0.2.1 udp ${UDP_NAMES}`,
  `192.0.2.1 1 ${TCP_NAMES} ${UDP_NAMES}`,
  '192.0.2.1 tcp telnet smtp domain 0 65535',
  '192.0.2.2 udp domain ntp',
  '192.0.2.3 6',
  '192.0.2.4 TCP TELNET Smtp ftp-data www mail',
  '192.0.2.5 1 telnet ntp',
  '192.0.2.6 +17 +53 053 -0',
  '192.0.2.7 255 8 7 9',
  '0.0.0.0 0',
  '255.255.255.255 UDP DOMAIN 65535',
]

/** Records BIND refuses, and the token the error names (undefined: the end of the record). */
const REFUSED: readonly (readonly [string, string | undefined])[] = [
  ['', undefined],
  ['192.0.2.1', undefined],
  ['192.0.2', '192.0.2'],
  ['192.0.2.01 tcp', '192.0.2.01'],
  ['::1 tcp', '::1'],
  ['192.0.2.1 Tcp 23', 'Tcp'],
  ['192.0.2.1 256', '256'],
  ['192.0.2.1 -1', '-1'],
  ['192.0.2.1 6x', '6x'],
  ['192.0.2.1 tcp ntp', 'ntp'],
  ['192.0.2.1 udp telnet', 'telnet'],
  ['192.0.2.1 tcp 65536', '65536'],
  ['192.0.2.1 tcp -1', '-1'],
  ['192.0.2.1 tcp 0x17', '0x17'],
  ['192.0.2.1 tcp 23x', '23x'],
  ['192.0.2.1 tcp nosuchservice', 'nosuchservice'],
  ['"192.0.2.1" tcp', '192.0.2.1'],
  ['192.0.2.1 tcp "23"', '23'],
]

/** Wire BIND does not print as WKS: it refuses all of it. */
const MALFORMED: readonly (readonly [string, string, 'refused' | 'generic'])[] = [
  ['no octets', '', 'refused'],
  ['4 octets', 'c0000201', 'refused'],
  ['a trailing zero octet', 'c0000201 06 4000', 'refused'],
  ['a bitmap past port 65535', `c0000201 06 ${'00'.repeat(8192)}01`, 'refused'],
]

describeAgainstBind('WKS', wks, { accepted: ACCEPTED, refused: REFUSED, malformed: MALFORMED })

describe('WKS, the forms themselves', () => {
  const fromText = (rdata: string) => wks.fromText(tokens(rdata), ORIGIN)

  it('writes the address, the protocol and a bitmap up to the highest port', () => {
    expect(hex(fromText('192.0.2.1 tcp 0 7 8 23'))).toBe(hex(wireOf('c0000201 06 818001')))
  })

  it('writes no bitmap when no service is named', () => {
    expect(hex(fromText('192.0.2.1 udp'))).toBe(hex(wireOf('c0000201 11')))
  })

  it('reads the record where it sits in a message', () => {
    const wire = fromText('192.0.2.1 tcp 25')
    const msg = Buffer.concat([Buffer.from('ffff', 'hex'), wire, Buffer.from('ff', 'hex')])
    expect(wks.toText(msg, 2, 2 + wire.length)).toBe('192.0.2.1 6 25')
  })
})
