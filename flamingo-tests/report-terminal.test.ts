// The terminal report: what a person reads in a CI log, in order, aligned, and
// coloured only when asked.

import { describe, expect, it } from 'vitest'
import {
  caseResult,
  ERROR_ID,
  ODD_HTTP_ID,
  passingReport,
  reportOf,
  SAMPLE_TOTALS,
  sampleReport,
  sampleResults,
} from './report-fixture.ts'
import { renderTerminal } from './report-terminal.ts'

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI codes start with ESC
const ANSI = /\x1b\[[0-9;]*m/g

function plain(): string {
  return renderTerminal(sampleReport(), { color: false })
}

describe('renderTerminal', () => {
  it('starts with the totals, each on its own line, rate included', () => {
    const lines = plain().split('\n')
    expect(lines[0]).toBe('cutover diff: dns-basic, http-sites')
    const totals = lines.slice(lines.indexOf('') + 1, lines.indexOf('') + 9)
    expect(totals.map((l) => l.trim().split(/\s{2,}/))).toEqual(SAMPLE_TOTALS)
    // Numbers right-aligned in one column.
    expect(new Set(totals.map((l) => l.length)).size).toBe(1)
  })

  it('puts the sections in order: totals, mismatches, errors, expired suppressions, verdict', () => {
    const out = plain()
    const at = (s: string) => out.indexOf(s)
    expect(at('  cases')).toBeGreaterThan(0)
    expect(at('  cases')).toBeLessThan(at('Mismatches by what differs (3)'))
    expect(at('Mismatches by what differs')).toBeLessThan(at('Errors (1)'))
    expect(at('Errors (1)')).toBeLessThan(at('Expired suppressions (1)'))
    expect(out.trimEnd().split('\n').at(-1)).toBe(
      'FAIL  4 of 8 cases mismatching, 1 error, 1 expired suppression',
    )
  })

  it('groups mismatches by what differs, largest first, with counts', () => {
    const out = plain()
    expect(out).toContain('✗ TTL in answer ×3  (answer.ttl)')
    expect(out).toContain('✗ record data in answer ×1  (answer.rdata)')
    expect(out).toContain('✗ header cache-control ×1  (header.cache-control)')
    expect(out.indexOf('TTL in answer ×3')).toBeLessThan(out.indexOf('record data in answer ×1'))
  })

  it('shows one example per group as an aligned field-level diff, and its replay commands', () => {
    const lines = plain().split('\n')
    const start = lines.findIndex((l) => l.includes('TTL in answer ×3'))
    expect(lines[start + 1]).toBe('    example: www.example.test A udp edns=1232')
    const head = lines[start + 2]
    const row = lines[start + 3]
    expect(head.trim().split(/\s{2,}/)).toEqual(['field', 'legacy', 'candidate'])
    expect(row.trim().split(/\s{2,}/)).toEqual([
      'answer.ttl',
      'www.example.test IN A 300',
      'www.example.test IN A 60',
    ])
    expect(row.indexOf('www.example.test IN A 300')).toBe(head.indexOf('legacy'))
    expect(row.indexOf('www.example.test IN A 60')).toBe(head.indexOf('candidate'))
    expect(lines[start + 4]).toBe(
      "    replay legacy:    dig @127.0.0.1 -p 5301 +norec 'www.example.test' A",
    )
    expect(lines[start + 5]).toBe(
      "    replay candidate: dig @127.0.0.1 -p 5300 +norec 'www.example.test' A",
    )
  })

  it("shows only the group's field in the example, and names the case's other differences", () => {
    const out = plain()
    const rdata = out.slice(out.indexOf('record data in answer ×1'))
    const block = rdata.slice(0, rdata.indexOf('\n\n'))
    expect(block).toContain('answer.rdata  api.example.test IN AAAA 2001:db8::1')
    expect(block).not.toContain('api.example.test IN AAAA 300')
    expect(block).toContain('also differs: answer.ttl')
  })

  it('prints case ids with <, & and quotes as they are', () => {
    expect(plain()).toContain(`example: ${ODD_HTTP_ID}`)
  })

  it('lists errors with their message and replay commands, the first few only', () => {
    expect(plain()).toContain(`! ${ERROR_ID}: legacy: connect ECONNREFUSED 127.0.0.1:8081`)
    const many = Array.from({ length: 8 }, (_, i) =>
      caseResult({ id: `q${i}.example.test A udp`, outcome: 'error', error: `timeout ${i}` }),
    )
    const out = renderTerminal(reportOf(many), { color: false })
    expect(out).toContain('Errors (8)')
    expect(out).toContain('q4.example.test A udp: timeout 4')
    expect(out).not.toContain('timeout 5')
    expect(out).toContain('… 3 more errors')
    const two = renderTerminal(reportOf(many), { color: false, maxErrors: 2 })
    expect(two).not.toContain('timeout 2')
    expect(two).toContain('… 6 more errors')
  })

  it('lists expired suppressions with who, why and when', () => {
    expect(plain()).toContain(
      '✗ answer.ttl for cases cdn.*  expired 2024-06-30  by bob: CDN TTLs are capped at 60 until <the> "migration" & after',
    )
  })

  it('says what was left out as noise and what was suppressed, and by whom', () => {
    const out = plain()
    expect(out).toContain('noise (legacy differs from itself, ignored): header.etag ×1')
    expect(out).toContain('suppressed: header.x-powered-by (alice) ×1')
  })

  it('has no ANSI codes without colour', () => {
    expect(plain()).not.toContain('\x1b')
  })

  it('colours legacy values red and candidate values green, keeping the alignment', () => {
    const out = renderTerminal(sampleReport(), { color: true })
    expect(out).toContain('\x1b[31mwww.example.test IN A 300\x1b[0m')
    expect(out).toContain('\x1b[32mwww.example.test IN A 60\x1b[0m')
    expect(out).toContain('\x1b[31mFAIL\x1b[0m')
    expect(out.replace(ANSI, '')).toBe(plain())
  })

  it('escapes control characters from responses so they cannot repaint the terminal', () => {
    const results = [
      caseResult({
        id: 'evil\x1b[2J.example.test TXT udp',
        outcome: 'mismatch',
        diffs: [{ field: 'body', legacy: 'line one\nline two\x1b[31m', candidate: 'ok\t' }],
        error: undefined,
      }),
    ]
    const out = renderTerminal(reportOf(results), { color: false })
    expect(out).not.toContain('\x1b')
    expect(out).toContain('example: evil\\x1B[2J.example.test TXT udp')
    expect(out).toContain('line one\\nline two\\x1B[31m')
    expect(out).toContain('ok\\t')
  })

  it('stacks a diff whose values are too wide for columns', () => {
    const long = 'x'.repeat(90)
    const results = [
      caseResult({
        id: 'GET www.example.test/big',
        kind: 'http',
        outcome: 'mismatch',
        diffs: [{ field: 'body', legacy: long, candidate: `${long}y` }],
      }),
    ]
    const out = renderTerminal(reportOf(results), { color: false })
    expect(out).toContain(`      body\n        legacy:    ${long}\n        candidate: ${long}y\n`)
  })

  it('shows the largest groups in full and lists the rest by label', () => {
    const results = sampleResults()
    const out = renderTerminal(reportOf(results), { color: false, maxGroups: 1 })
    expect(out).toContain('✗ TTL in answer ×3')
    expect(out).not.toContain('✗ record data in answer')
    expect(out).toContain('… 2 more: record data in answer ×1, header cache-control ×1')
  })

  it('ends a clean run with PASS and no mismatch or error sections', () => {
    const out = renderTerminal(passingReport(), { color: false })
    expect(out).not.toContain('Mismatches')
    expect(out).not.toContain('Errors')
    expect(out).not.toContain('Expired')
    expect(out.endsWith('PASS  all 3 cases match\n')).toBe(true)
  })
})
