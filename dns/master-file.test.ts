// parseMasterFile: zone files as BIND reads them, and errors that say where.

import { describe, expect, it } from 'vitest'
import { CutoverError } from '../common/cutover-error.ts'
import { Type, typeName } from './constants.ts'
import {
  type MasterFileSource,
  type ParsedZone,
  type ParseOptions,
  parseMasterFile,
} from './master-file.ts'
import { wireToText } from './name.ts'
import { rdataToText } from './rdata.ts'

const FILE = 'example.zone'

function parse(text: string, options: Partial<ParseOptions> = {}): ParsedZone {
  return parseMasterFile({ text, file: FILE }, { origin: 'example.com.', ...options })
}

/** One line per record: owner, TTL, type, data. */
function show(zone: ParsedZone): string[] {
  return zone.records.map(
    (r) =>
      `${wireToText(r.owner)} ${r.ttl} ${typeName(r.type)} ${rdataToText(r.type, r.rdata.wire, 0, r.rdata.wire.length)}`,
  )
}

function zoneError(fn: () => unknown): CutoverError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CutoverError)
    expect((err as CutoverError).code).toBe('CUTOVER_ERR_ZONE_SYNTAX')
    expect((err as CutoverError).source).toBe('config')
    return err as CutoverError
  }
  throw new Error('expected a ZONE_SYNTAX error')
}

/** An include function over an in-memory set of files that records its calls. */
function files(map: Record<string, string>) {
  const calls: [string, string][] = []
  const include = (path: string, from: string): MasterFileSource => {
    calls.push([path, from])
    const text = map[path]
    if (text === undefined) throw new Error(`ENOENT: ${path}`)
    return { text, file: path }
  }
  return { include, calls }
}

describe('parseMasterFile', () => {
  it('reads a typical zone', () => {
    const zone = parse(`$ORIGIN example.com.
$TTL 1h
@   IN  SOA ns1 hostmaster (
        2024010101 ; serial
        2h         ; refresh ( a paren in a comment )
        15m 1w     ; retry, expire
        5m )       ; minimum
    IN  NS  ns1
    IN  NS  ns2.example.net.
ns1     A   192.0.2.1
www 300 IN A 192.0.2.2
        IN 600 AAAA 2001:db8::2
mail    MX  10 @
`)
    expect(show(zone)).toEqual([
      'example.com. 3600 SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 900 604800 300',
      'example.com. 3600 NS ns1.example.com.',
      'example.com. 3600 NS ns2.example.net.',
      'ns1.example.com. 3600 A 192.0.2.1',
      'www.example.com. 300 A 192.0.2.2',
      'www.example.com. 600 AAAA 2001:db8::2',
      'mail.example.com. 3600 MX 10 example.com.',
    ])
    expect(zone.warnings).toEqual([])
    expect(zone.records.map((r) => r.line)).toEqual([3, 8, 9, 10, 11, 12, 13])
    expect(zone.records.every((r) => r.file === FILE)).toBe(true)
  })

  it('keeps the owner as written and gives names to the writer', () => {
    const zone = parse('$TTL 60\nWWW.Example.COM. CNAME Target\n')
    expect(wireToText(zone.records[0].owner)).toBe('WWW.Example.COM.')
    expect(
      rdataToText(Type.CNAME, zone.records[0].rdata.wire, 0, zone.records[0].rdata.wire.length),
    ).toBe('Target.example.com.')
    expect(zone.records[0].rdata.names).toEqual([0])
  })

  it('takes the origin with or without the final dot', () => {
    const zone = parse('$TTL 60\n@ A 192.0.2.1\n', { origin: 'Example.COM' })
    expect(show(zone)).toEqual(['Example.COM. 60 A 192.0.2.1'])
  })

  it('applies $ORIGIN, absolute or relative to the current origin', () => {
    const zone = parse(`$TTL 60
a A 192.0.2.1
$ORIGIN sub.example.com.
b A 192.0.2.2
$ORIGIN deeper
c A 192.0.2.3
@ A 192.0.2.4
`)
    expect(show(zone)).toEqual([
      'a.example.com. 60 A 192.0.2.1',
      'b.sub.example.com. 60 A 192.0.2.2',
      'c.deeper.sub.example.com. 60 A 192.0.2.3',
      'deeper.sub.example.com. 60 A 192.0.2.4',
    ])
  })

  it('lets a blank owner inherit the previous one', () => {
    const zone = parse(`$TTL 60
a A 192.0.2.1
  A 192.0.2.2
\tTXT "tab"

  AAAA ::1
b A 192.0.2.3
`)
    expect(show(zone)).toEqual([
      'a.example.com. 60 A 192.0.2.1',
      'a.example.com. 60 A 192.0.2.2',
      'a.example.com. 60 TXT "tab"',
      'a.example.com. 60 AAAA ::1',
      'b.example.com. 60 A 192.0.2.3',
    ])
  })

  it('reads quoted strings with semicolons, spaces, parentheses and escapes', () => {
    const zone = parse(`$TTL 60
txt TXT "v=spf1 -all; really" "two  spaces" "(paren)" "say \\"hi\\"" bare
`)
    expect(show(zone)).toEqual([
      'txt.example.com. 60 TXT "v=spf1 -all; really" "two  spaces" "(paren)" "say \\"hi\\"" "bare"',
    ])
  })

  it('joins a parenthesised record across lines, with comments inside', () => {
    const zone = parse(`$TTL 60
txt TXT ( "one" ; first
          "two" ; second ) still a comment
        )
after A 192.0.2.9
`)
    expect(show(zone)).toEqual([
      'txt.example.com. 60 TXT "one" "two"',
      'after.example.com. 60 A 192.0.2.9',
    ])
    expect(zone.records.map((r) => r.line)).toEqual([2, 5])
  })

  it('keeps a blank owner when a continuation line starts in column one', () => {
    const zone = parse('$TTL 60\na A 192.0.2.1\n  TXT ( "x"\n"y" )\nb A 192.0.2.2\n')
    expect(show(zone)).toEqual([
      'a.example.com. 60 A 192.0.2.1',
      'a.example.com. 60 TXT "x" "y"',
      'b.example.com. 60 A 192.0.2.2',
    ])
  })

  it('accepts class and TTL in either order, or either alone', () => {
    const zone = parse(`$TTL 60
a IN 300 A 192.0.2.1
b 300 IN A 192.0.2.2
c 300 A 192.0.2.3
d IN A 192.0.2.4
e A 192.0.2.5
f 1h30m in A 192.0.2.6
g CLASS1 7 A 192.0.2.7
`)
    expect(show(zone).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'a.example.com. 300',
      'b.example.com. 300',
      'c.example.com. 300',
      'd.example.com. 60',
      'e.example.com. 60',
      'f.example.com. 5400',
      'g.example.com. 7',
    ])
  })

  it('accepts owners that look like types or numbers', () => {
    const zone = parse('$TTL 60\nA A 192.0.2.1\n3600 A 192.0.2.2\nin A 192.0.2.3\n')
    expect(show(zone)).toEqual([
      'A.example.com. 60 A 192.0.2.1',
      '3600.example.com. 60 A 192.0.2.2',
      'in.example.com. 60 A 192.0.2.3',
    ])
  })

  it('reads escapes in owner names', () => {
    const zone = parse('$TTL 60\na\\.b A 192.0.2.1\n\\065bc A 192.0.2.2\n')
    expect(show(zone).map((l) => l.split(' ')[0])).toEqual([
      'a\\.b.example.com.',
      'Abc.example.com.',
    ])
  })

  it('handles CRLF line ends and a last line without a newline', () => {
    const zone = parse('$TTL 60\r\na A 192.0.2.1\r\n  A 192.0.2.2')
    expect(show(zone)).toEqual(['a.example.com. 60 A 192.0.2.1', 'a.example.com. 60 A 192.0.2.2'])
  })

  it('reads unknown types and generic data (RFC 3597)', () => {
    const zone = parse(`$TTL 60
x TYPE65280 \\# 4 0a000001
y A \\# 4 c0000201
z TYPE1 192.0.2.5
e TYPE65281 \\# 0
`)
    expect(show(zone)).toEqual([
      'x.example.com. 60 TYPE65280 \\# 4 0a000001',
      'y.example.com. 60 A 192.0.2.1',
      'z.example.com. 60 A 192.0.2.5',
      'e.example.com. 60 TYPE65281 \\# 0',
    ])
    expect(zone.records[0].type).toBe(65280)
  })

  it('warns about out-of-zone data and skips it', () => {
    const zone = parse(`$TTL 60
www.example.net. A 192.0.2.1
in A 192.0.2.2
$ORIGIN example.org.
host A 192.0.2.3
bexample.com. A 192.0.2.4
`)
    expect(show(zone)).toEqual(['in.example.com. 60 A 192.0.2.2'])
    expect(zone.warnings).toEqual([
      'example.zone:2: ignoring out-of-zone data (www.example.net.)',
      'example.zone:5: ignoring out-of-zone data (host.example.org.)',
      'example.zone:6: ignoring out-of-zone data (bexample.com.)',
    ])
  })
})

describe('parseMasterFile TTLs', () => {
  it('uses $TTL for records without one', () => {
    expect(show(parse('$TTL 1d\na A 192.0.2.1\nb 5 A 192.0.2.2\nc A 192.0.2.3\n'))).toEqual([
      'a.example.com. 86400 A 192.0.2.1',
      'b.example.com. 5 A 192.0.2.2',
      'c.example.com. 86400 A 192.0.2.3',
    ])
  })

  it('uses the last explicit TTL when there is no $TTL (RFC 1035)', () => {
    expect(
      show(parse('a 100 A 192.0.2.1\nb A 192.0.2.2\nc 200 A 192.0.2.3\nd A 192.0.2.4\n')),
    ).toEqual([
      'a.example.com. 100 A 192.0.2.1',
      'b.example.com. 100 A 192.0.2.2',
      'c.example.com. 200 A 192.0.2.3',
      'd.example.com. 200 A 192.0.2.4',
    ])
  })

  it('prefers a later $TTL to the last explicit TTL, as BIND does', () => {
    expect(show(parse('a 100 A 192.0.2.1\n$TTL 50\nb A 192.0.2.2\n'))).toEqual([
      'a.example.com. 100 A 192.0.2.1',
      'b.example.com. 50 A 192.0.2.2',
    ])
  })

  it('gives an SOA without any TTL its minimum', () => {
    const zone = parse('@ IN SOA ns hm 1 2 3 4 1800\n')
    expect(zone.records[0].ttl).toBe(1800)
    const units = parse('@ SOA ns hm 1 2 3 4 1h\n')
    expect(units.records[0].ttl).toBe(3600)
  })

  it('then uses that minimum as the default for the records after it, as BIND does', () => {
    // BIND: "no TTL specified; using SOA MINTTL instead" also sets the default TTL.
    const zone = parse('@ IN SOA ns hm 1 2 3 4 1800\n  IN NS ns\nns A 192.0.2.1\n')
    expect(zone.records.map((r) => r.ttl)).toEqual([1800, 1800, 1800])
  })

  it('uses $TTL, not the minimum, for an SOA when there is one', () => {
    expect(parse('$TTL 60\n@ SOA ns hm 1 2 3 4 1800\n').records[0].ttl).toBe(60)
    expect(parse('@ 90 SOA ns hm 1 2 3 4 1800\n').records[0].ttl).toBe(90)
  })

  it('fails when a record has no TTL from anywhere', () => {
    const err = zoneError(() => parse('; no $TTL\nwww A 192.0.2.1\n'))
    expect(err.message).toBe(`${FILE}:2: no TTL given and no $TTL before this record (at 'A')`)
  })

  it('fails on a bad $TTL', () => {
    expect(zoneError(() => parse('$TTL forever\n')).message).toBe(
      `${FILE}:1: $TTL takes one TTL (seconds, or units like 1h30m) (at 'forever')`,
    )
    expect(zoneError(() => parse('$TTL\n')).message).toContain("(at '$TTL')")
    expect(zoneError(() => parse('$TTL 1 2\n')).message).toContain(`${FILE}:1: $TTL takes one TTL`)
    expect(zoneError(() => parse('$TTL 2147483648\n')).message).toContain("(at '2147483648')")
  })
})

describe('parseMasterFile $INCLUDE', () => {
  it('reads the included file with the current origin; its $ORIGIN does not leak back', () => {
    const { include, calls } = files({
      'sub.zone': '$ORIGIN other.example.com.\nhost A 192.0.2.9\n',
    })
    const zone = parseMasterFile(
      { text: '$TTL 60\n$INCLUDE sub.zone\nafter A 192.0.2.10\n', file: 'main.zone' },
      { origin: 'example.com.', include },
    )
    expect(calls).toEqual([['sub.zone', 'main.zone']])
    expect(show(zone)).toEqual([
      'host.other.example.com. 60 A 192.0.2.9',
      'after.example.com. 60 A 192.0.2.10',
    ])
    expect(zone.records.map((r) => `${r.file}:${r.line}`)).toEqual(['sub.zone:2', 'main.zone:3'])
  })

  it('takes an origin argument, relative to the current origin', () => {
    const { include } = files({ 'dept.zone': 'host A 192.0.2.1\n@ A 192.0.2.2\n' })
    const zone = parseMasterFile(
      {
        text: '$TTL 60\n$INCLUDE dept.zone dept\n$INCLUDE dept.zone lab.example.com.\nx A 192.0.2.3\n',
        file: 'main.zone',
      },
      { origin: 'example.com.', include },
    )
    expect(show(zone)).toEqual([
      'host.dept.example.com. 60 A 192.0.2.1',
      'dept.example.com. 60 A 192.0.2.2',
      'host.lab.example.com. 60 A 192.0.2.1',
      'lab.example.com. 60 A 192.0.2.2',
      'x.example.com. 60 A 192.0.2.3',
    ])
  })

  it('passes the including file name to nested includes', () => {
    const { include, calls } = files({
      'a.zone': '$INCLUDE b.zone\n',
      'b.zone': 'b A 192.0.2.1\n',
    })
    const zone = parseMasterFile(
      { text: '$TTL 60\n$INCLUDE a.zone\n', file: 'main.zone' },
      { origin: 'example.com.', include },
    )
    expect(calls).toEqual([
      ['a.zone', 'main.zone'],
      ['b.zone', 'a.zone'],
    ])
    expect(show(zone)).toEqual(['b.example.com. 60 A 192.0.2.1'])
  })

  it('names the included file in errors found there', () => {
    const { include } = files({ 'bad.zone': '; fine\nwww A 300.0.0.1\n' })
    const err = zoneError(() =>
      parseMasterFile(
        { text: '$TTL 60\n$INCLUDE bad.zone\n', file: 'main.zone' },
        { origin: 'example.com.', include },
      ),
    )
    expect(err.message).toMatch(/^bad\.zone:2: A rdata at '300\.0\.0\.1'/)
  })

  it('fails without an include function, or when the file cannot be read', () => {
    expect(zoneError(() => parse('$INCLUDE sub.zone\n')).message).toBe(
      `${FILE}:1: $INCLUDE is not available here (at 'sub.zone')`,
    )
    const { include } = files({})
    const err = zoneError(() => parse('\n$INCLUDE missing.zone\n', { include }))
    expect(err.message).toBe(
      `${FILE}:2: cannot read included file: ENOENT: missing.zone (at 'missing.zone')`,
    )
    expect(zoneError(() => parse('$INCLUDE\n', { include })).message).toContain(
      `${FILE}:1: $INCLUDE takes`,
    )
    expect(zoneError(() => parse('$INCLUDE a b c\n', { include })).message).toContain(
      `${FILE}:1: $INCLUDE takes`,
    )
  })

  it('stops an include loop', () => {
    const { include, calls } = files({ 'loop.zone': '$INCLUDE loop.zone\n' })
    const err = zoneError(() => parse('$INCLUDE loop.zone\n', { include }))
    expect(err.message).toBe(
      "loop.zone:1: $INCLUDE nested deeper than 16 (a loop?) (at 'loop.zone')",
    )
    expect(calls.length).toBe(16)
  })
})

describe('parseMasterFile errors name file, line and token', () => {
  it('an unknown directive', () => {
    expect(zoneError(() => parse('$TTL 60\n$GENERATE 1-2 a$ A 192.0.2.$\n')).message).toBe(
      `${FILE}:2: unknown directive $GENERATE (supported: $ORIGIN, $TTL, $INCLUDE) (at '$GENERATE')`,
    )
  })

  it('a bad $ORIGIN', () => {
    expect(zoneError(() => parse('$ORIGIN\n')).message).toContain(
      `${FILE}:1: $ORIGIN takes exactly one domain name`,
    )
    expect(zoneError(() => parse('$ORIGIN a..b.\n')).message).toMatch(
      /^example\.zone:1: .*empty label \(at 'a\.\.b\.'\)$/,
    )
  })

  it('a bad type', () => {
    expect(zoneError(() => parse('$TTL 60\nwww 300 IN BOGUS 1.2.3.4\n')).message).toBe(
      `${FILE}:2: expected a TTL, a class or a record type (at 'BOGUS')`,
    )
    expect(zoneError(() => parse('$TTL 60\nwww 300 300 A 1.2.3.4\n')).message).toContain(
      "(at '300')",
    )
    expect(zoneError(() => parse('$TTL 60\nwww 300 IN\n')).message).toBe(
      `${FILE}:2: expected a record type at the end of the line`,
    )
  })

  it('a meta type', () => {
    // After IN, because ANY alone would be read as the class ANY.
    for (const t of ['ANY', 'OPT', 'AXFR', 'IXFR', 'TSIG']) {
      expect(zoneError(() => parse(`$TTL 60\nwww IN ${t} 0\n`)).message).toBe(
        `${FILE}:2: ${t} is a meta type and cannot appear in a zone (at '${t}')`,
      )
    }
  })

  it('a bad owner name', () => {
    expect(zoneError(() => parse(`$TTL 60\n${'x'.repeat(64)} A 192.0.2.1\n`)).message).toMatch(
      /^example\.zone:2: .*label longer than 63 octets \(at 'x+'\)$/,
    )
  })

  it('a record with no owner to inherit', () => {
    expect(zoneError(() => parse('$TTL 60\n  A 192.0.2.1\n')).message).toBe(
      `${FILE}:2: record with no owner name and no previous owner to inherit (at 'A')`,
    )
  })

  it('unbalanced parentheses', () => {
    expect(zoneError(() => parse('$TTL 60\n\nwww A 192.0.2.1 )\n')).message).toBe(
      `${FILE}:3: ')' without a matching '('`,
    )
    expect(zoneError(() => parse('$TTL 60\n@ SOA ns hm (\n 1 2 3\n 4 5\n')).message).toBe(
      `${FILE}:2: '(' is never closed`,
    )
  })

  it('an unterminated quote', () => {
    expect(zoneError(() => parse('$TTL 60\ntxt TXT "abc')).message).toBe(
      `${FILE}:2: unterminated quoted string`,
    )
    expect(zoneError(() => parse('$TTL 60\ntxt TXT "abc\ndef"\n')).message).toBe(
      `${FILE}:2: quoted string runs past the end of the line`,
    )
  })

  it('bad rdata, with the rdata token', () => {
    expect(zoneError(() => parse('$TTL 60\n\nwww A 192.0.2.300\n')).message).toBe(
      `${FILE}:3: A rdata at '192.0.2.300': expected an IPv4 address`,
    )
    expect(zoneError(() => parse('$TTL 60\nmx MX ten mail\n')).message).toContain(
      `${FILE}:2: MX rdata at 'ten'`,
    )
    expect(zoneError(() => parse('$TTL 60\nx NSEC a. A BOGUS\n')).message).toContain(
      `${FILE}:2: NSEC rdata at 'BOGUS': expected a record type`,
    )
    expect(zoneError(() => parse('$TTL 60\nx TYPE65280 \\# 2 00\n')).message).toContain(
      `${FILE}:2: TYPE65280 rdata at '2'`,
    )
    // The line of a multi-line record is the line it starts on.
    expect(zoneError(() => parse('$TTL 60\n@ SOA ns hm (\n 1 2 3\n 4 x )\n')).message).toBe(
      `${FILE}:2: SOA rdata at 'x': expected a number from 0 to 4294967295`,
    )
  })

  it('a class other than IN', () => {
    expect(zoneError(() => parse('$TTL 60\nwww CH TXT "x"\n')).message).toBe(
      `${FILE}:2: only class IN is supported (at 'CH')`,
    )
    expect(zoneError(() => parse('$TTL 60\nwww 300 HS A 192.0.2.1\n')).message).toBe(
      `${FILE}:2: only class IN is supported (at 'HS')`,
    )
  })

  it('a class other than IN written before the TTL', () => {
    expect(zoneError(() => parse('$TTL 60\nwww CH 300 TXT "x"\n')).message).toBe(
      `${FILE}:2: only class IN is supported (at 'CH')`,
    )
  })
})
