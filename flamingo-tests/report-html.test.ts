// The HTML report as text: one self-contained page, every value escaped, the
// groups with their example side by side, errors and expired suppressions.
// report-html.browser.test.ts opens it in Chromium.

import { describe, expect, it } from 'vitest'
import {
  caseResult,
  ERROR_ID,
  ODD_DNS_ID,
  ODD_HTTP_ID,
  passingReport,
  reportOf,
  SAMPLE_TOTALS,
  sampleReport,
} from './report-fixture.ts'
import { escapeHtml, renderHtml } from './report-html.ts'

const page = () => renderHtml(sampleReport())

/** The markup of the group whose label is `label`. */
function groupOf(html: string, label: string): string {
  const start = html.indexOf(`<summary><span class="label">${label}</span>`)
  expect(start).toBeGreaterThan(0)
  return html.slice(start, html.indexOf('</details>\n</div>\n</details>', start))
}

describe('renderHtml', () => {
  it('is one complete document with a title and the verdict', () => {
    const html = page()
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true)
    expect(html.trimEnd().endsWith('</html>')).toBe(true)
    expect(html.match(/<html/g)).toHaveLength(1)
    expect(html).toContain('<title>cutover diff FAIL: dns-basic, http-sites</title>')
    expect(html).toContain('<span class="verdict fail">FAIL</span>')
  })

  it('needs nothing outside itself and runs no script', () => {
    const html = page()
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    )
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import/i)
    expect(html).toContain('<style>')
  })

  it('shows the totals', () => {
    const html = page()
    const total = (name: string, value: string) =>
      `<span class="value">${value}</span><span class="name">${name}</span>`
    for (const [name, value] of SAMPLE_TOTALS) {
      expect(html).toContain(total(name, value))
    }
  })

  it('lists the groups with label and count, largest first, each collapsed', () => {
    const html = page()
    const labels = [
      ...html.matchAll(
        /<summary><span class="label">([^<]*)<\/span> <span class="count">×(\d+)<\/span>/g,
      ),
    ].map((m) => `${m[1]} ×${m[2]}`)
    expect(labels).toEqual([
      'TTL in answer ×3',
      'record data in answer ×1',
      'header cache-control ×1',
    ])
    expect(html).not.toMatch(/<details[^>]* open/)
  })

  it("shows a group's example: its diffs, the responses side by side with the changes marked", () => {
    const g = groupOf(page(), 'TTL in answer')
    expect(g).toContain('<code>www.example.test A udp edns=1232</code>')
    expect(g).toContain(
      '<tr class="hit"><td><code>answer.ttl</code></td><td class="legacy">www.example.test IN A 300</td><td class="candidate">www.example.test IN A 60</td></tr>',
    )
    expect(g).toContain(
      '<tr class="same"><td class="legacy">NOERROR flags: aa rd</td><td class="candidate">NOERROR flags: aa rd</td></tr>',
    )
    expect(g).toContain(
      '<tr class="changed"><td class="legacy">answer: www.example.test <mark>300</mark> IN A 192.0.2.10</td>' +
        '<td class="candidate">answer: www.example.test <mark>60</mark> IN A 192.0.2.10</td></tr>',
    )
  })

  it("dims the example's differences that belong to other groups", () => {
    const g = groupOf(page(), 'record data in answer')
    expect(g).toContain('<tr class="hit"><td><code>answer.rdata</code>')
    expect(g).toContain('<tr class="other"><td><code>answer.ttl</code>')
  })

  it("gives each group its example's replay commands and its cases", () => {
    const g = groupOf(page(), 'TTL in answer')
    expect(g).toContain(
      '<span class="side">legacy    </span>dig @127.0.0.1 -p 5301 +norec &#39;www.example.test&#39; A',
    )
    expect(g).toContain(
      '<span class="side">candidate </span>dig @127.0.0.1 -p 5300 +norec &#39;www.example.test&#39; A',
    )
    expect(g).toContain('<summary>cases (3)</summary>')
    expect(g).toContain(`<li><code>${escapeHtml(ODD_DNS_ID)}</code></li>`)
  })

  it('escapes every value from the run', () => {
    const html = page()
    expect(html).toContain('<code>odd&lt;&amp;&quot;&gt;&#39;.example.test TXT udp</code>')
    expect(html).toContain(`<code>${escapeHtml(ODD_HTTP_ID)}</code>`)
    expect(html).toContain('&lt;p&gt;results &amp; more&lt;/p&gt;')
    expect(html).not.toContain('<script>')
    expect(html).not.toContain(ODD_DNS_ID)
    expect(html).not.toContain('<p>results')
  })

  it('escapes markup in suites, targets and field names too', () => {
    const report = reportOf([
      caseResult({
        id: 'x',
        outcome: 'mismatch',
        diffs: [{ field: 'header.<f1>', legacy: '<v1>', candidate: '"' }],
      }),
    ])
    report.suites = ['<s1>']
    report.targets = { legacy: '<l1>', candidate: '<c1>' }
    const html = renderHtml(report)
    expect(html).not.toMatch(/<(s1|l1|c1|f1|v1)>/)
    expect(html).toContain('<title>cutover diff FAIL: &lt;s1&gt;</title>')
    expect(html).toContain('legacy <b>&lt;l1&gt;</b>')
    expect(html).toContain('<span class="label">header &lt;f1&gt;</span>')
    expect(html).toContain('<td class="legacy">&lt;v1&gt;</td><td class="candidate">&quot;</td>')
  })

  it('lists errors with their message and replay commands', () => {
    const html = page()
    const errors = html.slice(html.indexOf('<section id="errors">'))
    expect(errors).toContain('<h2>Errors (1)</h2>')
    expect(errors).toContain(`<code>${escapeHtml(ERROR_ID)}</code>`)
    expect(errors).toContain('legacy: connect ECONNREFUSED 127.0.0.1:8081')
    expect(errors).toContain('http://127.0.0.1:8081/cart?a=1&amp;b=&lt;2&gt;')
  })

  it('lists expired suppressions with who, why and when', () => {
    const html = page()
    const expired = html.slice(html.indexOf('<section id="expired">'))
    expect(expired).toContain('<h2>Expired suppressions (1)</h2>')
    expect(expired).toContain(
      '<tr><td><code>answer.ttl</code></td><td><code>cdn.*</code></td><td>bob</td>' +
        '<td>CDN TTLs are capped at 60 until &lt;the&gt; &quot;migration&quot; &amp; after</td>' +
        '<td class="bad">2024-06-30</td></tr>',
    )
  })

  it('lists the noise and the suppressed diffs', () => {
    const html = page()
    const quiet = html.slice(html.indexOf('<section id="quiet">'))
    expect(quiet).toContain('<tr><td><code>header.etag</code></td><td>1</td></tr>')
    expect(quiet).toContain(
      '<tr><td><code>header.x-powered-by</code></td><td>1</td><td>alice</td>' +
        '<td>the legacy adds it; the new path drops it on purpose</td><td>2099-12-31</td></tr>',
    )
  })

  it('says so when an example has no response text', () => {
    const html = renderHtml(
      reportOf([
        caseResult({
          id: 'x',
          outcome: 'mismatch',
          diffs: [{ field: 'rcode', legacy: 'NOERROR', candidate: 'SERVFAIL' }],
        }),
      ]),
    )
    expect(html).toContain('No response text recorded for this case.')
  })

  it('shows a clean run as PASS with no mismatches, errors or expired suppressions', () => {
    const html = renderHtml(passingReport())
    expect(html).toContain('<span class="verdict pass">PASS</span>')
    expect(html).toContain('No mismatches.')
    expect(html).not.toContain('<section id="errors">')
    expect(html).not.toContain('<section id="expired">')
  })
})
