// The recorder turns sampled live requests into suites `cutover diff` can run,
// without credentials unless told to keep them.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery } from '../../dns/message.ts'
import { createQueryView, readQuery } from '../../dns/query-view.ts'
import { parseSuite } from '../../flamingo-tests/suite.ts'
import { TrafficRecorder } from './traffic-recorder.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function recorder(options: Partial<ConstructorParameters<typeof TrafficRecorder>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-record-'))
  dirs.push(dir)
  return {
    dir,
    r: new TrafficRecorder({ dir, basisPoints: 10_000, maxCases: 100, secrets: false, ...options }),
  }
}

function dnsQuery(name: string, type: number, edns?: { udpSize: number; do?: boolean }) {
  const q = buildQuery({ name, type, edns })
  const v = createQueryView()
  readQuery(q, q.length, v)
  return { q, v }
}

describe('TrafficRecorder', () => {
  it('writes DNS questions as a suite that loads, once per distinct question', () => {
    const { dir, r } = recorder()
    for (const [name, type, edns] of [
      ['www.example.test', Type.A, { udpSize: 1232 }],
      ['www.example.test', Type.A, { udpSize: 1232 }],
      ['Mail.Example.Test', Type.MX, undefined],
    ] as const) {
      const { q, v } = dnsQuery(name, type, edns)
      r.dns(q, v, 'udp')
    }
    r.close()
    const suite = parseSuite(
      readFileSync(join(dir, 'recorded-dns.yaml'), 'utf8'),
      'recorded-dns.yaml',
    )
    if (suite.kind !== 'dns') throw new Error('not a DNS suite')
    expect(suite.cases.map((c) => [c.name, c.type, c.edns])).toEqual([
      ['www.example.test.', 'A', 1232],
      ['Mail.Example.Test.', 'MX', false],
    ])
  })

  it('drops credentials and hop headers from HTTP requests unless told to keep secrets', () => {
    const raw = [
      'Host',
      'www.example.test',
      'Authorization',
      'Bearer x',
      'Cookie',
      'a=1',
      'Accept',
      'text/html',
      'X-Cutover-Force',
      'new',
    ]
    const plain = recorder()
    plain.r.http('GET', 'www.example.test', '/page?x=1', raw)
    plain.r.close()
    const suite = parseSuite(
      readFileSync(join(plain.dir, 'recorded-http.yaml'), 'utf8'),
      'recorded-http.yaml',
    )
    expect(suite.cases).toEqual([
      {
        method: 'GET',
        host: 'www.example.test',
        path: '/page?x=1',
        headers: { accept: 'text/html' },
        ignore: [],
      },
    ])
    const keeping = recorder({ secrets: true })
    keeping.r.http('GET', 'www.example.test', '/', raw)
    keeping.r.close()
    expect(readFileSync(join(keeping.dir, 'recorded-http.yaml'), 'utf8')).toContain(
      'authorization: Bearer x',
    )
  })

  it('records at most maxCases, and only the sampled share', () => {
    const { dir, r } = recorder({ maxCases: 3 })
    for (let i = 0; i < 10; i++) r.http('GET', 'h.test', `/${i}`, [])
    r.close()
    expect(
      parseSuite(readFileSync(join(dir, 'recorded-http.yaml'), 'utf8'), 'x').cases,
    ).toHaveLength(3)
    const none = recorder({ basisPoints: 0 })
    for (let i = 0; i < 10; i++) none.r.http('GET', 'h.test', `/${i}`, [])
    none.r.close()
    expect(() => readFileSync(join(none.dir, 'recorded-http.yaml'))).toThrow()
  })
})
