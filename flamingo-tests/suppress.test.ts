// Suppressions accept known differences for a while: by field (or field
// prefix) and case glob, until they expire.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isExpired, loadSuppressions, suppressionFor } from './suppress.ts'

const NOW = new Date('2026-11-23T12:00:00Z')
const ttl = { field: 'answer.ttl', who: 'ops', why: 'legacy rounds TTLs', expires: '2026-12-31' }
const oldHeader = {
  field: 'header',
  case: 'GET www.example.test/api/*',
  who: 'web',
  why: 'server banner',
  expires: '2026-01-01',
}

describe('suppressions', () => {
  it('accept a diff by exact field or field prefix, within their case glob', () => {
    expect(
      suppressionFor(
        [ttl],
        'www.example.test A udp edns=1232',
        { field: 'answer.ttl', legacy: '1', candidate: '2' },
        NOW,
      ),
    ).toBe(ttl)
    expect(
      suppressionFor([ttl], 'x', { field: 'answer.rdata', legacy: '1', candidate: '2' }, NOW),
    ).toBeUndefined()
    const live = { ...oldHeader, expires: '2027-01-01' }
    expect(
      suppressionFor(
        [live],
        'GET www.example.test/api/users',
        { field: 'header.server', legacy: 'a', candidate: 'b' },
        NOW,
      ),
    ).toBe(live)
    expect(
      suppressionFor(
        [live],
        'GET www.example.test/home',
        { field: 'header.server', legacy: 'a', candidate: 'b' },
        NOW,
      ),
    ).toBeUndefined()
  })

  it('stop applying once expired, and say so', () => {
    expect(isExpired(oldHeader, NOW)).toBe(true)
    expect(isExpired(ttl, NOW)).toBe(false)
    expect(
      suppressionFor(
        [oldHeader],
        'GET www.example.test/api/users',
        { field: 'header.server', legacy: 'a', candidate: 'b' },
        NOW,
      ),
    ).toBeUndefined()
  })

  it('load from YAML, and refuse an entry without who, why or expires', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-suppress-'))
    try {
      writeFileSync(
        join(dir, 'ok.yaml'),
        'suppressions:\n  - { field: answer.ttl, who: ops, why: rounding, expires: 2026-12-31 }\n',
      )
      expect(loadSuppressions(join(dir, 'ok.yaml'))).toEqual([
        { field: 'answer.ttl', who: 'ops', why: 'rounding', expires: '2026-12-31' },
      ])
      writeFileSync(join(dir, 'bad.yaml'), 'suppressions:\n  - { field: answer.ttl }\n')
      expect(() => loadSuppressions(join(dir, 'bad.yaml'))).toThrow(
        /each entry needs field, who, why, expires/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
