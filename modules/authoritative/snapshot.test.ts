// Snapshots: a zone written after record events and built again from the
// snapshot holds the same records and knows the sequence it is consistent
// with; a snapshot of another master file, or of one with $INCLUDEs, is not used.

import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import type { ModuleLog } from '../env.ts'
import { type AuthoritativeModule, authoritative } from './index.ts'
import { snapshotFile } from './snapshot.ts'
import { zoneText } from './zone-text.ts'

const dir = mkdtempSync(join(tmpdir(), 'cutover-snapshot-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const silent: ModuleLog = { info() {}, warn() {}, error() {} }

const MASTER = `$TTL 300
$ORIGIN s.test.
@    IN SOA ns1 hostmaster 100 7200 900 1209600 60
     IN NS  ns1
ns1  IN A   192.0.2.1
www  IN A   192.0.2.2
`

let n = 0
/** A fresh master file and snapshot folder; `open` builds the zone (warnings into `warned`). */
function setup(master = MASTER) {
  const file = join(dir, `m${n}.zone`)
  const snapshots = join(dir, `snapshots${n++}`)
  writeFileSync(file, master)
  const warned: string[] = []
  const log: ModuleLog = { ...silent, warn: (_fields, message) => warned.push(String(message)) }
  const open = (fedBy = 'test-log') =>
    authoritative(
      { zones: [{ name: 's.test', file }], snapshots: { dir: snapshots, log: fedBy } },
      { log, registry: new Registry() },
    )
  return { file, snapshots, open, warned }
}

function change(module: AuthoritativeModule, sequence: string) {
  const apply = (e: Record<string, unknown>, seq: string) =>
    expect(module.apply({ zone: 's.test', type: 'A', ...e, sequence: seq } as never).result).toBe(
      'applied',
    )
  apply({ op: 'create', name: 'api', ttl: 60, data: '192.0.2.3' }, '1-0')
  apply({ op: 'delete', name: 'www', data: '192.0.2.2' }, sequence)
}

/** The zone's records, without the sequence line. */
const records = (m: AuthoritativeModule) => zoneText(m.zone('s.test')!).split('\n').slice(1)

describe('snapshots', () => {
  it('a build from the snapshot holds what the events made and starts after them', () => {
    const { snapshots, open } = setup()
    const live = open()
    expect(live.position()).toBe('0-0')
    change(live, '2-0')
    expect(live.snapshot('5-0')).toBe(1)

    const again = open()
    expect(records(again)).toEqual(records(live))
    expect(again.position()).toBe('5-0')
    // What the snapshot holds is not applied twice; what follows it is.
    expect(
      again.apply({
        zone: 's.test',
        op: 'create',
        name: 'old',
        type: 'A',
        data: '192.0.2.9',
        sequence: '4-0',
      }).result,
    ).toBe('skipped')
    expect(
      again.apply({
        zone: 's.test',
        op: 'create',
        name: 'new',
        type: 'A',
        data: '192.0.2.9',
        sequence: '6-0',
      }).result,
    ).toBe('applied')
    expect(readFileSync(snapshotFile(snapshots, 's.test'), 'utf8')).toMatch(
      /^; cutover-source: [0-9a-f]{64}\n; cutover-log: test-log\n; cutover-sequence: 5-0\n[\s\S]*; cutover-end\n$/,
    )
  })

  it('writes nothing when nothing is newer than the last snapshot', () => {
    const { open } = setup()
    const live = open()
    expect(live.snapshot('0-0')).toBe(0)
    change(live, '2-0')
    expect(live.snapshot('2-0')).toBe(1)
    expect(live.snapshot('2-0')).toBe(0)
    expect(open().snapshot('2-0')).toBe(0)
  })

  it('removes what a writer killed mid-write left, not what one is writing now', () => {
    const { snapshots, open } = setup()
    const live = open()
    change(live, '2-0')
    live.snapshot('2-0')
    const abandoned = `${snapshotFile(snapshots, 's.test')}.123.tmp`
    const writing = `${snapshotFile(snapshots, 's.test')}.456.tmp`
    writeFileSync(abandoned, 'half')
    writeFileSync(writing, 'half')
    const dayAgo = new Date(Date.now() - 86_400_000)
    utimesSync(abandoned, dayAgo, dayAgo)
    live.apply({
      zone: 's.test',
      op: 'create',
      name: 'more',
      type: 'A',
      data: '192.0.2.8',
      sequence: '3-0',
    })
    expect(live.snapshot('3-0')).toBe(1)
    expect(existsSync(abandoned)).toBe(false)
    expect(existsSync(writing)).toBe(true)
  })

  it('is not used when fed by another log, or cut short', () => {
    const { snapshots, open } = setup()
    const live = open()
    change(live, '2-0')
    live.snapshot('2-0')
    expect(open('another-log').position()).toBe('0-0')
    const file = snapshotFile(snapshots, 's.test')
    writeFileSync(file, readFileSync(file, 'utf8').replace('; cutover-end\n', ''))
    expect(open().position()).toBe('0-0')
  })

  it('one that does not build is set aside, with a warning, for the master file', () => {
    const { snapshots, open, warned } = setup()
    const live = open()
    change(live, '2-0')
    live.snapshot('2-0')
    const file = snapshotFile(snapshots, 's.test')
    writeFileSync(file, readFileSync(file, 'utf8').replace('IN A 192.0.2.3', 'IN A 192.0.2.300'))
    const again = open()
    expect(again.position()).toBe('0-0')
    expect(records(again)).toContain('www.s.test. 300 IN A 192.0.2.2')
    expect(warned.join('\n')).toContain('does not build')
  })

  it('a build of an older master file, or at an older sequence, does not replace a newer snapshot', () => {
    const { file, snapshots, open } = setup()
    const old = open()
    change(old, '2-0')
    writeFileSync(file, `${MASTER}new  IN A   192.0.2.7\n`)
    const fresh = open()
    expect(fresh.snapshot('3-0')).toBe(1)
    // The old generation drains after the new one started: its zone grew from the old file.
    expect(old.snapshot('4-0')).toBe(0)
    expect(fresh.snapshot('2-0')).toBe(0)
    expect(readFileSync(snapshotFile(snapshots, 's.test'), 'utf8')).toContain('new.s.test.')
  })

  it('writes data with no presentation form that reads back in the generic form', () => {
    const { open } = setup()
    const live = open()
    const tlsa = { zone: 's.test', name: '_443._tcp', type: 'TLSA', ttl: 60, sequence: '1-0' }
    expect(live.apply({ ...tlsa, op: 'create', data: '\\# 3 030101' }).result).toBe('applied')
    live.snapshot('1-0')
    const again = open()
    expect(again.position()).toBe('1-0')
    expect(records(again)).toContain('_443._tcp.s.test. 60 IN TLSA \\# 3 030101')
  })

  it('is not used once the master file changed: the zone is built from the file, the whole log to replay', () => {
    const { file, open } = setup()
    const live = open()
    change(live, '2-0')
    live.snapshot('2-0')
    writeFileSync(file, `${MASTER}new  IN A   192.0.2.7\n`)
    const again = open()
    expect(again.position()).toBe('0-0')
    expect(records(again)).toContain('new.s.test. 300 IN A 192.0.2.7')
    expect(records(again)).toContain('www.s.test. 300 IN A 192.0.2.2')
  })

  it('is not written for a master file with $INCLUDEs, which one fingerprint cannot vouch for', () => {
    writeFileSync(join(dir, 'part.zone'), 'www IN A 192.0.2.2\n')
    const { snapshots, open } = setup(
      `${MASTER.replace('www  IN A   192.0.2.2\n', '')}$INCLUDE ${join(dir, 'part.zone')}\n`,
    )
    const live = open()
    change(live, '2-0')
    expect(live.snapshot('2-0')).toBe(0)
    expect(existsSync(snapshotFile(snapshots, 's.test'))).toBe(false)
  })
})
