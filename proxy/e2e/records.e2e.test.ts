// Record changes in place, end to end, with BIND 9 as the oracle: the same
// events go to BIND as RFC 2136 dynamic updates (nsupdate) and to the proxy
// through its admin API; afterwards `cutover diff` over the zone finds no
// mismatch, SOA serial included (both move it by one per update). Also: the
// journal file as a source, and the admin API's refusals.

import { spawn } from 'node:child_process'
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'

import { Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import type { RunReport } from '../../flamingo-tests/report-model.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { zoneText } from '../../modules/authoritative/zone-text.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { cutover, dnsDiff, ROOT, runCli, waitForOutput } from './support/cli.ts'
import { freePort } from './support/free-port.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { startRedis } from './support/redis.ts'
import { startSupervised } from './support/supervised.ts'
import { findTool } from './support/tools.ts'
import { until } from './support/until.ts'

const ZONES = join(ROOT, 'proxy', 'e2e', 'zones')
const ZONE = join(ZONES, 'e2e.test.zone')

let dir: string
let bind: BindServer
let proxy: TestProxy

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-records-'))
  bind = await startBind([{ name: 'e2e.test', file: ZONE, dynamic: true }], ZONES)
  proxy = await startTestProxy({
    dns: {
      listen: '127.0.0.1:0',
      candidateListen: `127.0.0.1:${await freePort()}`,
      zones: [{ name: 'e2e.test', file: ZONE, percent: 100 }],
      legacy: { servers: [`127.0.0.1:${bind.port}`] },
    },
  })
})

afterAll(async () => {
  await proxy?.stop()
  await bind?.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface Change {
  op: 'create' | 'delete' | 'update'
  name: string
  type: string
  ttl?: number
  data: string
  old?: { name: string; type: string; data: string }
}

/** Changes covering new names, RRsets growing and shrinking, chains, wildcards, empty non-terminals, a rename. */
const CHANGES: Change[] = [
  { op: 'create', name: 'new1.e2e.test.', type: 'A', ttl: 300, data: '192.0.2.101' },
  { op: 'create', name: 'new1.e2e.test.', type: 'A', ttl: 300, data: '192.0.2.102' },
  { op: 'create', name: 'new1.e2e.test.', type: 'TXT', ttl: 300, data: '"added"' },
  // A record joining an RRset with another TTL: the RRset takes the new TTL.
  { op: 'create', name: 'new1.e2e.test.', type: 'TXT', ttl: 600, data: '"second"' },

  { op: 'delete', name: 'www.e2e.test.', type: 'A', data: '192.0.2.11' },
  { op: 'create', name: 'to-new.e2e.test.', type: 'CNAME', ttl: 300, data: 'new1.e2e.test.' },
  { op: 'create', name: 'e2e.test.', type: 'MX', ttl: 3600, data: '30 new1.e2e.test.' },
  { op: 'create', name: 'a.b.deep.e2e.test.', type: 'A', ttl: 300, data: '192.0.2.103' },
  { op: 'create', name: '*.wild2.e2e.test.', type: 'A', ttl: 300, data: '192.0.2.104' },
  { op: 'delete', name: 'mail.e2e.test.', type: 'A', data: '192.0.2.3' },
  { op: 'create', name: 'mail.e2e.test.', type: 'A', ttl: 3600, data: '192.0.2.33' },
  {
    op: 'update',
    name: 'renamed.e2e.test.',
    type: 'A',
    ttl: 300,
    data: '192.0.2.101',
    old: { name: 'new1.e2e.test.', type: 'A', data: '192.0.2.101' },
  },
  { op: 'delete', name: 'a.b.deep.e2e.test.', type: 'A', data: '192.0.2.103' },
]

/** The changes as one nsupdate session: one update message (one serial step) per change. */
function nsupdateScript(changes: Change[]): string {
  const lines = [`server 127.0.0.1 ${bind.port}`, 'zone e2e.test.']
  for (const c of changes) {
    if (c.old) lines.push(`update delete ${c.old.name} ${c.old.type} ${c.old.data}`)
    if (c.op === 'delete') lines.push(`update delete ${c.name} ${c.type} ${c.data}`)
    else lines.push(`update add ${c.name} ${c.ttl} ${c.type} ${c.data}`)
    lines.push('send')
  }
  return `${lines.join('\n')}\n`
}

function nsupdate(script: string): Promise<{ code: number; out: string }> {
  const tool = findTool('nsupdate')
  if (!tool) throw new Error('nsupdate is not installed: apt-get install -y bind9-dnsutils')
  return new Promise((resolve) => {
    const child = spawn(tool, [], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    child.on('exit', (code) => resolve({ code: code ?? -1, out }))
    child.stdin.end(script)
  })
}

async function publish(c: Change, token = proxy.token) {
  const { op, ...record } = c
  const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/zones/e2e.test/records`, {
    method: op === 'delete' ? 'DELETE' : 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(record),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function answer(name: string, type: number = Type.A) {
  return decodeMessage(
    await exchange({ host: '127.0.0.1', port: proxy.dnsPort }, buildQuery({ name, type }), 'udp'),
  )
}

describe('record events with BIND as the oracle', () => {
  it('the same changes through nsupdate and through the admin API leave zones cutover diff finds equal', async () => {
    const updated = await nsupdate(nsupdateScript(CHANGES))
    expect(updated.code, updated.out).toBe(0)
    for (const c of CHANGES) {
      const { status, body } = await publish(c)
      expect({ status, body }).toMatchObject({ status: 200, body: { result: 'applied' } })
    }
    // A suite of every name and type in the zone as it stands, plus the names changes took away.
    const zoneFile = join(dir, 'e2e.test.now.zone')
    writeFileSync(zoneFile, zoneText(proxy.authoritative!.zone('e2e.test')!))
    const suite = join(dir, 'suite.yaml')
    const gen = await cutover([
      'diff',
      'generate',
      '--zone',
      zoneFile,
      '--origin',
      'e2e.test',
      '--out',
      suite,
    ])
    expect(gen.code, gen.out).toBe(0)
    const generated = parse(readFileSync(suite, 'utf8')) as { cases: unknown[] }
    for (const name of [
      'new1.e2e.test',
      'a.b.deep.e2e.test',
      'b.deep.e2e.test',
      'x.wild2.e2e.test',
    ])
      generated.cases.push({ name, type: 'A' })
    writeFileSync(suite, stringify(generated))
    const json = join(dir, 'report.json')
    const run = await dnsDiff(suite, bind.port, proxy.dnsCandidatePort, '--json', json)
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport
    expect(report.totals.mismatch, run.out).toBe(0)
    expect(report.totals.error, run.out).toBe(0)
    expect(report.totals.cases).toBeGreaterThan(100)

    // The rename left nothing at the old name; the serial moved once per change.
    expect((await answer('new1.e2e.test')).answer.map((r) => r.data)).toEqual(['192.0.2.102'])
    expect((await answer('renamed.e2e.test')).answer.map((r) => r.data)).toEqual(['192.0.2.101'])
    const soa = await answer('e2e.test', Type.SOA)
    expect(soa.answer[0].data).toContain(` ${2026112301 + CHANGES.length} `)
  })
})

describe('the journal', () => {
  it('applies a line appended by any tool, on the next read', async () => {
    const journal = join(proxy.stateDir, 'records.jsonl')
    appendFileSync(
      journal,
      `${JSON.stringify({ op: 'create', zone: 'e2e.test', name: 'from-journal', type: 'A', ttl: 60, data: '192.0.2.120' })}\n`,
    )
    await until(
      async () => (await answer('from-journal.e2e.test')).answer.length === 1,
      'the journal line in answers',
      5000,
    )
    expect((await answer('from-journal.e2e.test')).answer[0].data).toBe('192.0.2.120')
  })
})

describe('the admin API for records', () => {
  it('needs the token, refuses what does not parse or what BIND would refuse, naming why', async () => {
    const change: Change = { op: 'create', name: 'x', type: 'A', ttl: 60, data: '192.0.2.1' }
    expect((await publish(change, 'wrong')).status).toBe(403)
    const bad = await publish({ ...change, data: '300.1.1.1' })
    expect(bad.status).toBe(422)
    expect(String(bad.body.reason)).toContain("'300.1.1.1'")
    const conflict = await publish({
      op: 'create',
      name: 'alias',
      type: 'A',
      ttl: 60,
      data: '192.0.2.1',
    })
    expect(conflict).toEqual({
      status: 422,
      body: expect.objectContaining({
        result: 'refused',
        reason: 'alias.e2e.test. is a CNAME and cannot take other data',
      }),
    })
    const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/zones/e2e.test/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${proxy.token}` },
      body: JSON.stringify({ name: 'x', type: 'A' }),
    })
    expect(res.status).toBe(400)
    expect((await answer('x.e2e.test')).rcode).toBe(Rcode.NXDOMAIN)
  })
})

describe('a Redis stream shared by the workers', () => {
  it('every worker applies every event once, through a proxy restart and Redis killed and started again, and answers are never half-changed', async () => {
    const redisDir = join(dir, 'redis')
    mkdirSync(redisDir)
    let redis = await startRedis({ persistIn: redisDir })
    const stream = 'test:records'
    const publisher = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 })
    publisher.on('error', () => {})
    const dnsPort = await freePort()
    const p = await startSupervised({
      workers: 2,
      dns: {
        listen: `127.0.0.1:${dnsPort}`,
        zones: [{ name: 'e2e.test', file: ZONE, percent: 100 }],
        legacy: { servers: [`127.0.0.1:${bind.port}`] },
        records: { redis: { url: redis.url, stream } },
      },
    })
    const ask = async (name: string) =>
      decodeMessage(
        await exchange(
          { host: '127.0.0.1', port: dnsPort },
          buildQuery({ name, type: Type.A }),
          'udp',
        ),
      )
    /** Publishes, trying again while Redis is away: the test's publisher loses nothing either. */
    const publish = async (event: Record<string, unknown>) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        try {
          await publisher.xadd(stream, '*', 'event', JSON.stringify({ zone: 'e2e.test', ...event }))
          return
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      throw new Error('Redis did not come back')
    }
    try {
      const serial = async () =>
        Number(
          decodeMessage(
            await exchange(
              { host: '127.0.0.1', port: dnsPort },
              buildQuery({ name: 'e2e.test', type: Type.SOA }),
              'udp',
            ),
          ).answer[0].data.split(' ')[2],
        )
      const before = await serial()
      await publish({ op: 'create', name: 'moving', type: 'A', ttl: 60, data: '10.0.0.0' })

      // Queries all along: the moving name always has exactly one address.
      let asked = 0
      let broken = 0
      let querying = true
      const load = (async () => {
        while (querying) {
          const r = await ask('moving.e2e.test')
          asked++
          if (r.rcode === Rcode.NOERROR && r.answer.length !== 1) broken++
        }
      })()

      const N = 150
      let restarted: Promise<{ code: number; output: string }> | undefined
      for (let i = 1; i <= N; i++) {
        await publish({
          op: 'update',
          name: 'moving',
          type: 'A',
          ttl: 60,
          data: `10.0.0.${i}`,
          old: { name: 'moving', type: 'A', data: `10.0.0.${i - 1}` },
        })
        await publish({ op: 'create', name: `n${i}`, type: 'A', ttl: 60, data: `10.1.0.${i}` })
        if (i === 50) restarted = p.command('restart')
        // Mid-stream: the new generation is starting while events keep coming.
        if (i === 75)
          await until(async () => (await p.status()).generation === 2, 'the restart', 10_000)

        // Killed mid-stream, as a crash: what it acknowledged is in its append-only file.
        if (i === 100) {
          await redis.kill()
          redis = await startRedis({ port: redis.port, persistIn: redisDir })
        }
      }
      // Bounded, with the proxy's log if it does not finish: the old generation must drain.
      const restart = await Promise.race([
        restarted!,
        delay(60_000).then(() => ({ code: -1, output: 'still running after 60 s' })),
      ])
      expect(restart.code, `${restart.output}\n${p.run.output().slice(-4000)}`).toBe(0)
      // Every worker: fresh sockets are dealt to both.
      await until(
        async () => {
          const answers = await Promise.all(Array.from({ length: 8 }, () => ask('moving.e2e.test')))
          return answers.every((a) => a.answer[0]?.data === `10.0.0.${N}`)
        },
        'every worker to apply the last event',
        15_000,
      )
      querying = false
      await load
      expect(asked).toBeGreaterThan(100)
      expect(broken).toBe(0)
      for (let i = 1; i <= N; i++)
        expect((await ask(`n${i}.e2e.test`)).answer[0]?.data).toBe(`10.1.0.${i}`)
      // One serial step per event: none lost, none applied twice, on any worker.
      for (let i = 0; i < 8; i++) expect(await serial()).toBe(before + 1 + 2 * N)
      await until(
        async () => (await fetch(`http://127.0.0.1:${p.adminPort}/readyz`)).ok,
        'ready',
        10_000,
      )
      expect(await p.metric('cutover_record_lag_events')).toBe(0)

      // Through the supervisor's admin API: answered once every worker applied it.
      const res = await fetch(`http://127.0.0.1:${p.adminPort}/zones/e2e.test/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${p.token}` },
        body: JSON.stringify({ name: 'via-admin', type: 'A', ttl: 60, data: '10.2.0.1' }),
        signal: AbortSignal.timeout(10_000),
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ result: 'applied' })
      const seen = await Promise.all(Array.from({ length: 8 }, () => ask('via-admin.e2e.test')))
      expect(seen.map((a) => a.answer[0]?.data)).toEqual(Array(8).fill('10.2.0.1'))
    } finally {
      publisher.disconnect()
      p.cleanup()
      await redis.stop()
    }
  }, 120_000)
})

describe('zone snapshots', () => {
  // A copy per test: snapshots are checked against their master file.
  const SMALL = readFileSync(join(ZONES, 'small.zone'), 'utf8')

  it('a stop writes them; the next start builds from them and reads only the events after, so a trimmed stream loses nothing', async () => {
    const redis = await startRedis()
    const stream = 'test:snapshots'
    const publisher = new Redis(redis.url, { maxRetriesPerRequest: 1 })
    const zoneFile = join(dir, 'snap.test.zone')
    writeFileSync(zoneFile, SMALL)
    const dnsPort = await freePort()
    const p = await startSupervised({
      workers: 2,
      dns: {
        listen: `127.0.0.1:${dnsPort}`,
        zones: [{ name: 'snap.test', file: zoneFile, percent: 100 }],
        legacy: { servers: [`127.0.0.1:${bind.port}`] },
        records: { redis: { url: redis.url, stream } },
      },
    })
    const ask = async (name: string, type: number = Type.A) =>
      decodeMessage(
        await exchange({ host: '127.0.0.1', port: dnsPort }, buildQuery({ name, type }), 'udp'),
      )
    const serial = async () =>
      Number((await ask('snap.test', Type.SOA)).answer[0].data.split(' ')[2])
    const publish = (event: Record<string, unknown>) =>
      publisher.xadd(stream, '*', 'event', JSON.stringify({ zone: 'snap.test', ...event }))
    let again: ReturnType<typeof runCli> | undefined
    try {
      await publish({ op: 'create', name: 'one', type: 'A', data: '10.3.0.1' })
      await publish({ op: 'delete', name: 'www', type: 'A', data: '192.0.2.2' })
      await until(async () => (await serial()) === 3, 'both events applied', 10_000)
      expect((await p.command('stop')).code).toBe(0)
      const snapshot = readFileSync(join(p.dir, 'state', 'snapshots', 'snap.test.zone'), 'utf8')
      expect(snapshot).toContain('one.snap.test. 300 IN A 10.3.0.1')
      expect(snapshot).not.toContain('www.snap.test.')
      // One worker of the two writes them.
      expect(p.run.output().match(/zone snapshots written/g)).toHaveLength(1)

      // The events the snapshot holds are gone from the stream; one more comes while stopped.
      await publisher.xtrim(stream, 'MAXLEN', 0)
      await publish({ op: 'create', name: 'two', type: 'A', data: '10.3.0.2' })
      again = runCli(['start', '--config', p.file])
      await waitForOutput(again, 'cutover is serving')
      expect(again.output()).toContain(join('snapshots', 'snap.test.zone'))
      for (let i = 0; i < 8; i++) {
        expect((await ask('one.snap.test')).answer[0]?.data).toBe('10.3.0.1')
        expect((await ask('two.snap.test')).answer[0]?.data).toBe('10.3.0.2')
        expect((await ask('www.snap.test')).rcode).toBe(Rcode.NXDOMAIN)
        // Three events, each applied once.
        expect(await serial()).toBe(4)
      }
    } finally {
      if (again) {
        await p.command('stop')
        await again.exited
      }
      publisher.disconnect()
      p.cleanup()
      await redis.stop()
    }
  }, 60_000)

  it('a journal replaced since the snapshots stops the start, naming the fix, also beside a zone without snapshots', async () => {
    const zoneFile = join(dir, 'snap-journal.test.zone')
    writeFileSync(zoneFile, SMALL)
    const p = await startSupervised({
      // Two: a start with workers that fail must end, not wait on the ones that did not.
      workers: 2,
      dns: {
        listen: `127.0.0.1:${await freePort()}`,
        // And a zone never snapshotted ($INCLUDEs): its replay starts at line 1, the check must not.
        zones: [
          { name: 'snapj.test', file: zoneFile, percent: 100 },
          { name: 'e2e.test', file: ZONE, percent: 100 },
        ],
        legacy: { servers: [`127.0.0.1:${bind.port}`] },
      },
    })
    try {
      const journal = join(p.dir, 'state', 'records.jsonl')
      const event = (name: string) =>
        `${JSON.stringify({ op: 'create', zone: 'snapj.test', name, type: 'A', data: '10.4.0.1' })}\n`
      appendFileSync(journal, event('a') + event('b') + event('c'))
      await until(
        // Summed over the two workers, each applying the three.
        async () => (await p.metric('cutover_record_events_total', { result: 'applied' })) === 6,
        'the journal applied',
        10_000,
      )
      expect((await p.command('stop')).code).toBe(0)
      writeFileSync(journal, event('d'))
      const again = runCli(['start', '--config', p.file])
      expect(await again.exited).not.toBe(0)
      expect(again.output()).toContain('the journal was replaced since')
      expect(again.output()).toContain('Remove the snapshots folder')
    } finally {
      p.cleanup()
    }
  }, 60_000)
})
