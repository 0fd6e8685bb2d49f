// Record changes in place on a generated zone of a million records (BENCH_RECORDS
// to change it): the full build against per-record builds of the same zone, in
// a child process of its own (bench/zone-build.ts, pinned to one core), and
// the memory the zone holds; then publish-to-answer with the proxy as users run
// it (two workers, a real Redis stream): the admin API answers once every
// worker has applied the change, and a DNS client polls for it after a bare
// XADD by another publisher. Last, per-record builds in a signed zone of
// 100,000 records (dnssec-signzone, NSEC and NSEC3 with opt-out), each event
// signed with the zone's keys, against the same zone unsigned.

import { once } from 'node:events'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { Redis } from 'ioredis'
import { Type } from '../dns/constants.ts'
import { buildQuery, decodeMessage } from '../dns/message.ts'
import { exchange } from '../legacy-adapter/dns-client.ts'
import { freePort } from '../proxy/e2e/support/free-port.ts'
import { startRedis } from '../proxy/e2e/support/redis.ts'
import { signZone } from '../proxy/e2e/support/sign-zone.ts'
import { startSupervised } from '../proxy/e2e/support/supervised.ts'
import { runPinned } from './support/pinned.ts'
import type { ZoneBuildFigures } from './zone-build.ts'

const SERVER_CORE = 1
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const EVENTS = 1000
const PUBLISHES = 300
const BURST = 10_000
const ORIGIN = 'bench.test'
const SIGNED_RECORDS = 100_000

export async function recordsBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-records-'))
  try {
    const file = join(dir, 'bench.zone')
    await generateZone(file, RECORDS)
    process.stderr.write(`  generated ${RECORDS} records\n`)
    const build = await zoneBuild(file, RECORDS, join(dir, 'snapshots'))
    const fromSnapshot = await zoneBuild(file, RECORDS, join(dir, 'snapshots'), '--from-snapshot')
    process.stderr.write(`  full build ${build.fullBuildMs.toFixed(0)} ms\n`)
    const latency = await publishToAnswer(file)
    const signed = await signedBuilds(dir)
    return `${report(build, fromSnapshot.fullBuildMs, latency)}\n\n${signedReport(signed)}`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The figures of bench/zone-build.ts run on `file` in a pinned child process. */
async function zoneBuild(
  file: string,
  records: number,
  snapshots: string,
  ...more: string[]
): Promise<ZoneBuildFigures> {
  const output = await runPinned(SERVER_CORE, process.execPath, [
    '--expose-gc',
    '--max-old-space-size=8192',
    join(import.meta.dirname, 'zone-build.ts'),
    file,
    ORIGIN,
    String(records),
    String(EVENTS),
    snapshots,
    ...more,
  ])
  return JSON.parse(output.split('\n').find((l) => l.startsWith('{'))!)
}

type SignedBuilds = Record<'unsigned' | 'nsec' | 'nsec3', ZoneBuildFigures>

/** Per-record builds in a generated zone of SIGNED_RECORDS, unsigned and signed both ways. */
async function signedBuilds(dir: string): Promise<SignedBuilds> {
  const file = join(dir, 'signed-source.zone')
  await generateZone(file, SIGNED_RECORDS)
  const unsigned = await zoneBuild(file, SIGNED_RECORDS, join(dir, 'unsigned-snapshots'))
  const signedWith = async (nsec3: boolean) => {
    const work = mkdtempSync(join(dir, nsec3 ? 'nsec3-' : 'nsec-'))
    const signed = signZone(ORIGIN, file, work, nsec3)
    process.stderr.write(`  signed ${SIGNED_RECORDS} records with ${nsec3 ? 'NSEC3' : 'NSEC'}\n`)
    return zoneBuild(signed.file, SIGNED_RECORDS, join(work, 'snapshots'), '--keys', work)
  }
  return { unsigned, nsec: await signedWith(false), nsec3: await signedWith(true) }
}

/** The generator's zone: `h<i>` holds one A record, 10.x.y.z from i. */
async function generateZone(file: string, records: number): Promise<void> {
  const out = createWriteStream(file)
  out.write(`$ORIGIN ${ORIGIN}.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n`)
  out.write('@ NS ns1\nns1 A 10.255.255.1\n')
  for (let i = 0; i < records; i++) {
    const line = `h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`
    if (!out.write(line)) await once(out, 'drain')
  }
  out.end()
  await finished(out)
}

interface Latency {
  /** Admin API POST to its answer, which waits for every worker: milliseconds, sorted. */
  admin: number[]
  /** XADD by another publisher to the first DNS answer that shows the record: milliseconds, sorted. */
  stream: number[]
  /** Events a second, a burst of BURST XADDs until both workers have applied them all. */
  burstRate: number
}

async function publishToAnswer(file: string): Promise<Latency> {
  const redis = await startRedis()
  const stream = 'bench:records'
  const dnsPort = await freePort()
  const proxy = await startSupervised(
    {
      workers: 2,
      dns: {
        listen: `127.0.0.1:${dnsPort}`,
        zones: [{ name: ORIGIN, file, percent: 100 }],
        // Never asked: every query here is for the zone on the new path.
        legacy: { servers: [`127.0.0.1:${await freePort()}`] },
        records: { redis: { url: redis.url, stream } },
      },
    },
    180_000,
  )
  const publisher = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  /** Answered once every worker applied it, and so every event before it. */
  const adminPost = async (name: string) => {
    const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/zones/${ORIGIN}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${proxy.token}` },
      body: JSON.stringify({ name, type: 'A', ttl: 300, data: '10.7.0.1' }),
    })
    if (res.status !== 200) throw new Error(`admin API: ${res.status} ${await res.text()}`)
    await res.arrayBuffer()
  }
  try {
    const admin: number[] = []
    for (let i = 0; i < PUBLISHES; i++) {
      const t = performance.now()
      await adminPost(`admin${i}`)
      admin.push(performance.now() - t)
    }
    const streamed: number[] = []
    for (let i = 0; i < PUBLISHES; i++) {
      const name = `streamed${i}`
      const event = { zone: ORIGIN, op: 'create', name, type: 'A', ttl: 300, data: '10.7.0.2' }
      const t = performance.now()
      await publisher.xadd(stream, '*', 'event', JSON.stringify(event))
      await visible(dnsPort, `${name}.${ORIGIN}`)
      streamed.push(performance.now() - t)
    }
    const t = performance.now()
    const burst = publisher.pipeline()
    for (let i = 0; i < BURST; i++) {
      const event = { zone: ORIGIN, op: 'create', name: `burst${i}`, type: 'A', data: '10.7.0.3' }
      burst.xadd(stream, '*', 'event', JSON.stringify(event))
    }
    await burst.exec()
    await adminPost('after-burst')
    const burstRate = (BURST + 1) / ((performance.now() - t) / 1000)
    return {
      admin: admin.sort((a, b) => a - b),
      stream: streamed.sort((a, b) => a - b),
      burstRate,
    }
  } finally {
    publisher.disconnect()
    await proxy.command('stop')
    proxy.cleanup()
    await redis.stop()
  }
}

/** Asks for `name` until an answer holds it (bounded: 5 s). */
async function visible(port: number, name: string): Promise<void> {
  const query = buildQuery({ name, type: Type.A })
  const deadline = performance.now() + 5000
  while (performance.now() < deadline) {
    const reply = decodeMessage(await exchange({ host: '127.0.0.1', port }, query, 'udp'))
    if (reply.answer.length > 0) return
  }
  throw new Error(`${name} was not answered within 5 s of its XADD`)
}

const at = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]

function report(b: ZoneBuildFigures, snapshotBuildMs: number, l: Latency): string {
  const ms = (v: number) => `${v < 1 ? v.toFixed(3) : v.toFixed(1)} ms`
  const ratio = (per: number) => `${Math.round(b.fullBuildMs / per).toLocaleString('en')}×`
  return [
    `records: a zone of ${b.records.toLocaleString('en')} records, ${EVENTS} events timed after a warm-up (creates, deletes, renames)`,
    '| measure | value | full build ÷ it |',
    '|---|---:|---:|',
    `| full build (parse, check, precompute every answer) | ${ms(b.fullBuildMs)} | 1× |`,
    `| per-record build, median | ${ms(b.perRecordMedianMs)} | **${ratio(b.perRecordMedianMs)}** |`,
    `| per-record build, p99 | ${ms(b.perRecordP99Ms)} | ${ratio(b.perRecordP99Ms)} |`,
    `| snapshot written after the events | ${ms(b.snapshotWriteMs)} | |`,
    `| full build from that snapshot (a fresh process) | ${ms(snapshotBuildMs)} | |`,
    `| memory the zone holds | ${(b.zoneBytes / b.records).toFixed(0)} bytes per record | |`,
    `| admin API POST answered (applied on 2 workers), median / p99 | ${ms(at(l.admin, 0.5))} / ${ms(at(l.admin, 0.99))} | |`,
    `| XADD to first DNS answer holding it, median / p99 | ${ms(at(l.stream, 0.5))} / ${ms(at(l.stream, 0.99))} | |`,
    `| a burst of ${BURST.toLocaleString('en')} XADDs, applied on 2 workers | ${Math.round(l.burstRate).toLocaleString('en')} events/s | |`,
  ].join('\n')
}

function signedReport(s: SignedBuilds): string {
  const ms = (v: number) => `${v < 1 ? v.toFixed(3) : v.toFixed(1)} ms`
  const row = (what: string, b: ZoneBuildFigures) =>
    `| ${what} | ${ms(b.fullBuildMs)} | ${ms(b.perRecordMedianMs)} | ${ms(b.perRecordP99Ms)} | ${(b.perRecordMedianMs / s.unsigned.perRecordMedianMs).toFixed(1)}× | ${Math.round(b.fullBuildMs / b.perRecordMedianMs).toLocaleString('en')}× |`
  return [
    `records in a signed zone: ${SIGNED_RECORDS.toLocaleString('en')} records signed by dnssec-signzone (ECDSAP256SHA256), ${EVENTS} events each signed with the zone's keys and its NSEC or NSEC3 chain kept whole`,
    '| zone | full build | per-record build, median | p99 | median ÷ unsigned | full build ÷ median |',
    '|---|---:|---:|---:|---:|---:|',
    row('unsigned', s.unsigned),
    row('NSEC', s.nsec),
    row('NSEC3, opt-out', s.nsec3),
  ].join('\n')
}
