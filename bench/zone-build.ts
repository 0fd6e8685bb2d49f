// Child process of the records benchmark (run with --expose-gc): builds one
// generated zone in full, applies record events to it one at a time (after a
// warm-up, as a running proxy is warm), writes its snapshot, and prints the
// figures as JSON. A process of its own, so its heap is the zone's. With
// --from-snapshot it only times a full build from that snapshot.
// With --keys DIR the zone is a signed one and DIR holds its keys: each event is signed.
// usage: zone-build.ts FILE ORIGIN RECORDS EVENTS SNAPSHOT-DIR [--from-snapshot] [--keys DIR]

import { Registry } from 'prom-client'
import { authoritative } from '../modules/authoritative/index.ts'
import type { RecordEventBody } from '../modules/authoritative/record-event.ts'

export interface ZoneBuildFigures {
  records: number
  fullBuildMs: number
  /** Heap and array buffers the built zone holds. */
  zoneBytes: number
  perRecordMedianMs: number
  perRecordP99Ms: number
  snapshotWriteMs: number
}

/** Events applied before the timed ones, so the code that applies them is compiled. */
const WARMUP = 200

const silent = { info() {}, warn() {}, error() {} }

/** The address the generator (bench/records.ts) gives name `h<i>`. */
function addressOf(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
}

/**
 * Event `i`: a create of a new name, a delete of a generated record (even
 * names), or an update that renames one (odd names), each name used once.
 */
function eventAt(i: number, origin: string, records: number): RecordEventBody {
  const half = Math.floor(records / 2)
  const common = { zone: origin, type: 'A' }
  if (i % 3 === 0)
    return {
      ...common,
      op: 'create',
      name: `new${i}`,
      ttl: 300,
      data: `10.9.${(i >> 8) & 255}.${i & 255}`,
    }
  if (i % 3 === 1) {
    const n = 2 * ((i * 997) % half)
    return { ...common, op: 'delete', name: `h${n}`, data: addressOf(n) }
  }
  const n = 2 * ((i * 991) % half) + 1
  return {
    ...common,
    op: 'update',
    name: `renamed${n}`,
    ttl: 300,
    data: addressOf(n),
    old: { name: `h${n}`, type: 'A', data: addressOf(n) },
  }
}

function heapBytes(gc: () => void): number {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

function main(): void {
  const [file, origin, records, events, snapshots, ...flags] = process.argv.slice(2)
  const mode = flags.includes('--from-snapshot') ? '--from-snapshot' : undefined
  const keys = flags.includes('--keys') ? flags[flags.indexOf('--keys') + 1] : undefined
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with --expose-gc')
  const before = heapBytes(gc)
  const started = performance.now()
  const module = authoritative(
    { zones: [{ name: origin, file, keys }], snapshots: { dir: snapshots, log: 'bench' } },
    { log: silent, registry: new Registry() },
  )
  const fullBuildMs = performance.now() - started
  const zoneBytes = heapBytes(gc) - before
  const last = Number(events) + WARMUP
  if (mode === '--from-snapshot') {
    if (module.position() !== `${last}-0`) throw new Error('the snapshot was not used')
    process.stdout.write(`${JSON.stringify({ fullBuildMs, zoneBytes })}\n`)
    return
  }

  const times: number[] = []
  // Warm-up events are the last ones of the generator's series: each name is used once.
  const order = [
    ...Array.from({ length: WARMUP }, (_, i) => Number(events) + i),
    ...Array.from({ length: Number(events) }, (_, i) => i),
  ]
  order.forEach((i, at) => {
    const event = { ...eventAt(i, origin, Number(records)), sequence: `${at + 1}-0` }
    const t = performance.now()
    const outcome = module.apply(event)
    if (at >= WARMUP) times.push(performance.now() - t)
    if (outcome.result !== 'applied') throw new Error(`event ${i}: ${JSON.stringify(outcome)}`)
  })
  times.sort((a, b) => a - b)
  const t = performance.now()
  if (module.snapshot(`${last}-0`) !== 1) throw new Error('no snapshot written')
  const figures: ZoneBuildFigures = {
    records: Number(records),
    fullBuildMs,
    zoneBytes,
    perRecordMedianMs: times[Math.floor(times.length / 2)],
    perRecordP99Ms: times[Math.floor(times.length * 0.99)],
    snapshotWriteMs: performance.now() - t,
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`)
}

main()
