// The access and query logs through their public surface: sampling, each line's
// fields as written to a file, shared files, reopening after a rename, bad files.

import { mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Rcode, Type } from '../../dns/constants.ts'
import { buildQuery } from '../../dns/message.ts'
import { createQueryView, readQuery } from '../../dns/query-view.ts'
import type { LogConfig } from '../config/config.ts'
import type { DnsReplier } from '../dns/engine.ts'
import { logLines } from '../e2e/support/log-lines.ts'
import { until } from '../e2e/support/until.ts'
import { AccessLogs, checkLogFiles, type HttpLogged } from './access-log.ts'

const silent = pino({ level: 'silent' })
let dir: string
let logs: AccessLogs | undefined

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-access-log-'))
})

afterEach(async () => {
  await logs?.close()
  logs = undefined
  vi.restoreAllMocks()
  rmSync(dir, { recursive: true, force: true })
})

/** Settings as the config gives them: percentages in basis points. */
function config(access: number, queries: number, file?: string, queryFile = file): LogConfig {
  return {
    level: 'info',
    access: { percent: access, file },
    queries: { percent: queries, file: queryFile },
  }
}

const linesOf = (file: string) => logLines<Record<string, unknown>>(file)

const request: HttpLogged = {
  clientIp: '192.0.2.7',
  scope: { id: 'http:www.example.test' },
  servedBy: 'fallback',
  reason: 'module-error',
  method: 'GET',
  host: 'www.example.test',
  target: '/a?b=1',
  start: performance.now() - 20,
  upstreamAt: performance.now() - 10,
  headAt: performance.now() - 5,
  bytes: 1234,
}

/** A DNS replier that keeps what it was given. */
function recordingReplier(): DnsReplier<string> & { sent: { peer: string; length: number }[] } {
  const sent: { peer: string; length: number }[] = []
  return {
    sent,
    sendReply: (peer, _buf, length) => sent.push({ peer, length }),
    dropped: () => {},
  }
}

function queryAt(name: string, type: number) {
  const query = buildQuery({ name, type })
  const view = createQueryView()
  readQuery(query, query.length, view)
  return { query, view, transport: 'udp' as const }
}

/** A reply header with `rcode`, padded to `length` bytes. */
function replyWith(rcode: number, length: number): Buffer {
  const reply = Buffer.alloc(length)
  reply[2] = 0x81
  reply[3] = 0x80 | rcode
  return reply
}

describe('sampling', () => {
  it('never samples when off, and the query log then builds nothing', () => {
    logs = new AccessLogs(config(0, 0), 0, silent)
    const at = queryAt('a.test', Type.A)
    const random = vi.spyOn(Math, 'random')
    for (let i = 0; i < 100; i++) expect(logs.access.sampled()).toBe(false)
    const replier = recordingReplier()
    const sampled = logs.queries.sample(
      at,
      '192.0.2.1',
      { id: 'dns:test' },
      'new',
      0,
      'peer',
      replier,
    )
    expect(sampled).toBeUndefined()
    expect(random).not.toHaveBeenCalled()
  })

  it('samples every request at 100% and a share below the percentage between', () => {
    logs = new AccessLogs(config(10_000, 5_000, join(dir, 'a.log')), 0, silent)
    for (let i = 0; i < 100; i++) expect(logs.access.sampled()).toBe(true)
    const random = vi.spyOn(Math, 'random')
    random.mockReturnValue(0.4999)
    expect(logs.queries.sampled()).toBe(true)
    random.mockReturnValue(0.5)
    expect(logs.queries.sampled()).toBe(false)
  })
})

describe('lines', () => {
  it('writes an HTTP request with its path, reason, status, bytes and times', async () => {
    const file = join(dir, 'access.log')
    logs = new AccessLogs(config(10_000, 0, file), 3, silent)
    logs.access.request(request, 502)
    await logs.close()
    const [line] = linesOf(file)
    expect(line).toMatchObject({
      log: 'access',
      worker: 3,
      client: '192.0.2.7',
      scope: 'http:www.example.test',
      path: 'fallback',
      reason: 'module-error',
      method: 'GET',
      host: 'www.example.test',
      target: '/a?b=1',
      status: 502,
      bytes: 1234,
    })
    expect(Date.parse(line.time as string)).toBeGreaterThan(Date.now() - 60_000)
    expect(line.durationMs).toBeGreaterThanOrEqual(20)
    expect(line.upstreamMs).toBeGreaterThanOrEqual(4)
    expect(line.upstreamMs).toBeLessThan(line.durationMs as number)
  })

  it('leaves out the reason and the upstream time when there are none', async () => {
    const file = join(dir, 'access.log')
    logs = new AccessLogs(config(10_000, 0, file), 0, silent)
    logs.access.request({ ...request, servedBy: 'new', reason: undefined, upstreamAt: 0 }, 200)
    await logs.close()
    const [line] = linesOf(file)
    expect(line.path).toBe('new')
    expect(line).not.toHaveProperty('reason')
    expect(line).not.toHaveProperty('upstreamMs')
  })

  it('writes a DNS query as its reply goes on to the listener, over TLS as dot', async () => {
    const file = join(dir, 'queries.log')
    logs = new AccessLogs(config(0, 10_000, file), 1, silent)
    const replier = recordingReplier()
    const at = { ...queryAt('WWW.Example.test', Type.AAAA), transport: 'tcp' as const }
    const tlsPeer = { socket: { encrypted: true } }
    const inner: DnsReplier<typeof tlsPeer> = {
      sendReply: (_peer, buf, length) => replier.sendReply('tls', buf, length),
      dropped: () => {},
    }
    const logged = logs.queries.sample(
      at,
      '198.51.100.9',
      { id: 'dns:example.test' },
      'new',
      performance.now(),
      tlsPeer,
      inner,
    )
    expect(logged).toBeDefined()
    logged!.path = 'fallback'
    logged!.reason = 'unserved'
    logged!.upstreamAt = performance.now()
    logged!.sendReply(tlsPeer, replyWith(Rcode.NXDOMAIN, 90), 77)
    expect(replier.sent).toEqual([{ peer: 'tls', length: 77 }])
    await logs.close()
    const [line] = linesOf(file)
    expect(line).toMatchObject({
      log: 'queries',
      worker: 1,
      client: '198.51.100.9',
      scope: 'dns:example.test',
      path: 'fallback',
      reason: 'unserved',
      qname: 'WWW.Example.test.',
      qtype: 'AAAA',
      protocol: 'dot',
      rcode: 'NXDOMAIN',
      bytes: 77,
    })
    expect(line.upstreamMs).toBeGreaterThanOrEqual(0)
  })

  it('puts both logs in one file when they name the same one, each line saying which', async () => {
    const file = join(dir, 'both.log')
    logs = new AccessLogs(config(10_000, 10_000, file), 0, silent)
    logs.access.request(request, 200)
    logs.queries
      .sample(
        queryAt('a.test', Type.A),
        '::1',
        { id: 'dns:*' },
        'legacy',
        0,
        'p',
        recordingReplier(),
      )!
      .sendReply('p', replyWith(Rcode.NOERROR, 40), 40)
    await logs.close()
    const lines = linesOf(file)
    expect(lines.map((l) => l.log)).toEqual(['access', 'queries'])
    expect(lines[1]).toMatchObject({ protocol: 'udp', rcode: 'NOERROR', path: 'legacy' })
    expect(lines[1]).not.toHaveProperty('upstreamMs')
  })
})

describe('files', () => {
  it('reopens a file by name after it was moved away', async () => {
    const file = join(dir, 'access.log')
    const moved = join(dir, 'access.log.1')
    logs = new AccessLogs(config(10_000, 0, file), 0, silent)
    logs.access.request({ ...request, target: '/before' }, 200)
    await until(() => linesOf(file).length === 1, 'the first line')
    renameSync(file, moved)
    logs.reopen()
    logs.access.request({ ...request, target: '/after' }, 200)
    await logs.close()
    expect(linesOf(moved).map((l) => l.target)).toEqual(['/before'])
    expect(linesOf(file).map((l) => l.target)).toEqual(['/after'])
  })

  it('reopens its file on new settings that keep it (a reload)', async () => {
    const file = join(dir, 'access.log')
    logs = new AccessLogs(config(10_000, 0, file), 0, silent)
    logs.access.request({ ...request, target: '/before' }, 200)
    await until(() => linesOf(file).length === 1, 'the first line')
    renameSync(file, `${file}.1`)
    logs.configure(config(10_000, 0, file))
    logs.access.request({ ...request, target: '/after' }, 200)
    await logs.close()
    expect(linesOf(file).map((l) => l.target)).toEqual(['/after'])
  })

  it('takes new settings in place: off to on, and to another file', async () => {
    const first = join(dir, 'first.log')
    const second = join(dir, 'second.log')
    logs = new AccessLogs(config(0, 0, first), 0, silent)
    logs.access.request(request, 200)
    logs.configure(config(10_000, 0, first))
    logs.access.request({ ...request, target: '/first' }, 200)
    logs.configure(config(10_000, 0, second))
    logs.access.request({ ...request, target: '/second' }, 200)
    await logs.close()
    await until(() => linesOf(first).length === 1, 'the line in the first file')
    expect(linesOf(first).map((l) => l.target)).toEqual(['/first'])
    expect(linesOf(second).map((l) => l.target)).toEqual(['/second'])
  })

  it('refuses a file it cannot open, naming the key', () => {
    const bad = join(dir, 'missing-folder', 'q.log')
    expect(() => checkLogFiles(config(0, 100, bad))).toThrow(/log\.queries\.file: cannot open/)
    expect(() => new AccessLogs(config(100, 0, bad), 0, silent)).toThrow(/log\.access\.file/)
    expect(() => checkLogFiles(config(0, 0, bad))).not.toThrow()
  })
})
