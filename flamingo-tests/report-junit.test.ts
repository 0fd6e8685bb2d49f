// The JUnit report, read back with a small strict XML reader: well-formed, the
// counts right, every case a testcase, ids with <, & and quotes intact.

import { describe, expect, it } from 'vitest'
import {
  caseResult,
  ERROR_ID,
  ODD_DNS_ID,
  ODD_HTTP_ID,
  passingReport,
  reportOf,
  sampleReport,
} from './report-fixture.ts'
import { renderJunit, xmlAttr, xmlText } from './report-junit.ts'

interface Element {
  name: string
  attrs: Record<string, string>
  children: Element[]
  text: string
}

const REFS: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decode(s: string): string {
  if (/&(?!(?:amp|lt|gt|quot|apos|#\d+);)/.test(s)) throw new Error(`bare & in ${s}`)
  return s.replace(/&(#?\w+);/g, (_, r: string) =>
    r.startsWith('#') ? String.fromCharCode(Number(r.slice(1))) : REFS[r],
  )
}

/** A strict reader for the subset of XML the report writes; throws on anything malformed. */
function parseXml(xml: string): Element {
  const decl = '<?xml version="1.0" encoding="UTF-8"?>\n'
  if (!xml.startsWith(decl)) throw new Error('no XML declaration')
  const token = /<\/([\w-]+)>|<([\w-]+)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y
  const root: Element = { name: '#document', attrs: {}, children: [], text: '' }
  const stack = [root]
  token.lastIndex = decl.length
  while (token.lastIndex < xml.length) {
    const at = token.lastIndex
    const m = token.exec(xml)
    if (!m) throw new Error(`malformed XML at ${at}: ${xml.slice(at, at + 40)}`)
    const top = stack.at(-1)!
    if (m[1]) {
      if (top.name !== m[1]) throw new Error(`</${m[1]}> closes <${top.name}>`)
      stack.pop()
    } else if (m[2]) {
      const attrs: Record<string, string> = {}
      for (const a of m[3].matchAll(/([\w-]+)="([^"]*)"/g)) {
        if (a[1] in attrs) throw new Error(`repeated attribute ${a[1]}`)
        attrs[a[1]] = decode(a[2])
      }
      const el: Element = { name: m[2], attrs, children: [], text: '' }
      top.children.push(el)
      if (!m[4]) stack.push(el)
    } else {
      top.text += decode(m[5])
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.name}> not closed`)
  if (root.children.length !== 1) throw new Error('more than one root element')
  return root.children[0]
}

function all(el: Element, name: string): Element[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...all(c, name)])
}

function parsed() {
  const doc = parseXml(renderJunit(sampleReport()))
  const suite = all(doc, 'testsuite')[0]
  const cases = all(suite, 'testcase')
  const byName = (name: string) => cases.find((c) => c.attrs.name === name)!
  return { doc, suite, cases, byName }
}

describe('renderJunit', () => {
  it('is well-formed XML with one testsuite under testsuites', () => {
    const { doc } = parsed()
    expect(doc.name).toBe('testsuites')
    expect(all(doc, 'testsuite')).toHaveLength(1)
  })

  it('counts tests, failures, errors and time on the suite and the root', () => {
    const { doc, suite } = parsed()
    for (const el of [doc, suite]) {
      expect(el.attrs).toMatchObject({
        tests: '9',
        failures: '5',
        errors: '1',
        skipped: '0',
        time: '2.500',
        timestamp: '2025-03-04T05:06:07.000Z',
      })
    }
    expect(suite.attrs.name).toBe('dns-basic, http-sites')
    const props = Object.fromEntries(
      all(suite, 'property').map((p) => [p.attrs.name, p.attrs.value]),
    )
    expect(props).toEqual({
      suites: 'dns-basic http-sites',
      legacy: 'legacy (127.0.0.1:5301, :8081)',
      candidate: 'cutover (127.0.0.1:5300, :8080)',
    })
  })

  it('has one testcase per case, named by its id exactly, and never a skipped one', () => {
    const { doc, cases } = parsed()
    const report = sampleReport()
    expect(cases.map((c) => c.attrs.name)).toEqual([
      ...report.results.map((r) => r.id),
      'answer.ttl for cases cdn.*',
    ])
    expect(cases.map((c) => c.attrs.name)).toContain(ODD_DNS_ID)
    expect(cases.map((c) => c.attrs.name)).toContain(ODD_HTTP_ID)
    expect(all(doc, 'skipped')).toEqual([])
    expect(all(doc, 'failure')).toHaveLength(Number(doc.attrs.failures))
    expect(all(doc, 'error')).toHaveLength(Number(doc.attrs.errors))
  })

  it('sets classname to kind and group, and time in seconds', () => {
    const { byName } = parsed()
    expect(byName('www.example.test A udp edns=1232').attrs).toMatchObject({
      classname: 'dns.answer.ttl',
      time: '0.004',
    })
    // In two groups: the larger one names it.
    expect(byName('api.example.test AAAA tcp').attrs.classname).toBe('dns.answer.ttl')
    expect(byName(ODD_HTTP_ID).attrs.classname).toBe('http.header.cache-control')
    expect(byName('mail.example.test MX udp').attrs.classname).toBe('dns.match')
    expect(byName(ERROR_ID).attrs).toMatchObject({ classname: 'http.error', time: '2.001' })
  })

  it('gives a mismatch a failure with the field-level diff and the replay commands', () => {
    const failure = parsed().byName('api.example.test AAAA tcp').children[0]
    expect(failure.name).toBe('failure')
    expect(failure.attrs).toEqual({
      type: 'mismatch',
      message: 'differs: record data in answer, TTL in answer',
    })
    const lines = failure.text.split('\n')
    expect(lines[0].split(/\s{2,}/)).toEqual(['field', 'legacy', 'candidate'])
    expect(lines[1].split(/\s{2,}/)).toEqual([
      'answer.rdata',
      'api.example.test IN AAAA 2001:db8::1',
      'api.example.test IN AAAA 2001:db8::2',
    ])
    expect(lines[2].split(/\s{2,}/)).toEqual([
      'answer.ttl',
      'api.example.test IN AAAA 300',
      'api.example.test IN AAAA 60',
    ])
    expect(failure.text).toContain(
      "replay candidate: dig @127.0.0.1 -p 5300 +norec +tcp 'api.example.test' AAAA",
    )
  })

  it('keeps markup characters in diff values and replay commands intact', () => {
    const failure = parsed().byName(ODD_DNS_ID).children[0]
    expect(failure.text).toContain(`odd<&">'.example.test IN TXT 300`)
    const http = parsed().byName(ODD_HTTP_ID)
    expect(http.children[0].text).toContain(`'http://127.0.0.1:8081/search?q=<b>&x="y"'`)
  })

  it('gives an error case an error element with its message', () => {
    const el = parsed().byName(ERROR_ID).children
    expect(el).toHaveLength(1)
    expect(el[0].name).toBe('error')
    expect(el[0].attrs.message).toBe('legacy: connect ECONNREFUSED 127.0.0.1:8081')
    expect(el[0].text).toContain(
      "replay legacy:    curl -si -H 'Host: shop.example.test' 'http://127.0.0.1:8081/cart?a=1&b=<2>'",
    )
  })

  it('leaves a matching case empty, but notes its noise and suppressed diffs', () => {
    const { byName } = parsed()
    expect(byName('mail.example.test MX udp').children).toEqual([])
    const robots = byName('GET www.example.test/robots.txt').children
    expect(robots.map((c) => c.name)).toEqual(['system-out'])
    expect(robots[0].text).toContain('suppressed: header.x-powered-by: Legacy/1.0 | (absent)')
    expect(robots[0].text).toContain('by alice until 2099-12-31')
    expect(byName(ODD_HTTP_ID).children.map((c) => c.name)).toEqual(['failure', 'system-out'])
  })

  it('fails one testcase per expired suppression, with who, why and when', () => {
    const el = parsed().byName('answer.ttl for cases cdn.*')
    expect(el.attrs.classname).toBe('suppressions.expired')
    expect(el.children[0].attrs).toEqual({
      type: 'expired-suppression',
      message: 'suppression by bob expired 2024-06-30',
    })
    expect(el.children[0].text).toContain(
      'why: CDN TTLs are capped at 60 until <the> "migration" & after',
    )
  })

  it('reports a clean run with no failures or errors', () => {
    const doc = parseXml(renderJunit(passingReport()))
    expect(doc.attrs).toMatchObject({ tests: '3', failures: '0', errors: '0', skipped: '0' })
    expect(all(doc, 'failure')).toEqual([])
  })

  it('keeps newlines in attributes and drops characters XML cannot hold', () => {
    const results = [
      caseResult({
        id: 'a\nb\u0001\ud800',
        outcome: 'error',
        error: 'line 1\r\nline 2\u001b[0m',
      }),
    ]
    const out = renderJunit(reportOf(results))
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking none got through
    expect(out).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/)
    const el = all(parseXml(out), 'testcase')[0]
    expect(el.attrs.name).toBe('a\nb\\x01\\uD800')
    expect(el.children[0].attrs.message).toBe('line 1\r\nline 2\\x1B[0m')
  })

  it('escapes every markup character in attributes and text', () => {
    expect(xmlAttr(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;',
    )
    expect(xmlText('a < b && c > "d"\r\n')).toBe('a &lt; b &amp;&amp; c &gt; "d"&#13;\n')
    // A surrogate pair is a valid character and stays.
    expect(xmlText('🦩')).toBe('🦩')
  })
})
