// Child process of the records benchmark (run with --expose-gc): builds one
// generated zone in full, then applies record events to it one at a time, and
// prints the figures as JSON. A process of its own, so its heap is the zone's.
// Then it writes the zone's snapshot and times a full build from it.
// usage: zone-build.ts FILE ORIGIN RECORDS EVENTS SNAPSHOT-DIR

import { Registry } from 'prom-client'
import { authoritative } from '../modules/authoritative/index.ts'
import type { RecordEvent } from '../modules/authoritative/record-event.ts'

export interface ZoneBuildFigures {
  records: number
  fullBuildMs: number
  /** Heap and array buffers the built zone holds. */
  zoneBytes: number
  perRecordMedianMs: number
  perRecordP99Ms: number
  snapshotWriteMs: number
  /** A full build from the snapshot written after the events. */
  snapshotBuildMs: number
}

const silent = { info() {}, warn() {}, error() {} }

/** The address the generator (bench/records.ts) gives name `h<i>`. */
function addressOf(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
}

/**
 * Event `i`: a create of a new name, a delete of a generated record (even
 * names), or an update that renames one (odd names), each name used once.
 */
function eventAt(i: number, origin: string, records: number): RecordEvent {
  const half = Math.floor(records / 2)
  const common = { zone: origin, sequence: `${i + 1}-0`, type: 'A' }
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
  const [file, origin, records, events, snapshots] = process.argv.slice(2)
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with --expose-gc')
  const before = heapBytes(gc)
  const started = performance.now()
  const build = () =>
    authoritative(
      { zones: [{ name: origin, file }], snapshots },
      { log: silent, registry: new Registry() },
    )
  const module = build()
  const fullBuildMs = performance.now() - started
  const zoneBytes = heapBytes(gc) - before

  const times: number[] = []
  for (let i = 0; i < Number(events); i++) {
    const event = eventAt(i, origin, Number(records))
    const t = performance.now()
    const outcome = module.apply(event)
    times.push(performance.now() - t)
    if (outcome.result !== 'applied') throw new Error(`event ${i}: ${JSON.stringify(outcome)}`)
  }
  times.sort((a, b) => a - b)
  let t = performance.now()
  if (module.snapshot(`${events}-0`) !== 1) throw new Error('no snapshot written')
  const snapshotWriteMs = performance.now() - t
  t = performance.now()
  if (build().position() !== `${events}-0`) throw new Error('the snapshot was not used')
  const snapshotBuildMs = performance.now() - t
  const figures: ZoneBuildFigures = {
    records: Number(records),
    fullBuildMs,
    zoneBytes,
    perRecordMedianMs: times[Math.floor(times.length / 2)],
    perRecordP99Ms: times[Math.floor(times.length * 0.99)],
    snapshotWriteMs,
    snapshotBuildMs,
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`)
}

main()
