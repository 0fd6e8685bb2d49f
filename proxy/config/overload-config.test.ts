// loadConfig for load shedding: the overload section and dns.udp.receiveBuffer,
// their defaults, what they accept and how a mistake is named.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CutoverError } from '../../common/cutover-error.ts'
import { loadConfig } from './config.ts'

const dir = mkdtempSync(join(tmpdir(), 'cutover-overload-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
/** Loads `yaml` from a new file in the temp folder. */
const load = (yaml: string) => {
  const file = join(dir, `config-${++n}.yaml`)
  writeFileSync(file, yaml)
  return loadConfig(file)
}

/** The message loadConfig throws for `yaml`, which must be a CUTOVER_ERR_CONFIG_INVALID. */
function problem(yaml: string): string {
  try {
    load(yaml)
  } catch (err) {
    expect(err).toBeInstanceOf(CutoverError)
    expect((err as CutoverError).code).toBe('CUTOVER_ERR_CONFIG_INVALID')
    return (err as CutoverError).message
  }
  throw new Error('expected loadConfig to throw')
}

/** The lines of a message naming the problems, as `  key: text`. */
const problemLines = (message: string) => message.split('\n').filter((l) => l.startsWith('  '))

const DNS = `
dns:
  listen: 127.0.0.1:5300
  legacy:
    servers: [127.0.0.1:5301]
`

describe('overload and dns.udp defaults', () => {
  it('never shed (maxDelay 0), Retry-After 1 s, UDP queries dropped, the system receive buffer', () => {
    const c = load(DNS)
    expect(c.overload).toEqual({ maxDelay: 0, retryAfter: 1000, dnsUdp: 'drop' })
    expect(c.dns?.udp).toEqual({ receiveBuffer: 0 })
  })

  it('the defaults hold for an HTTP-only config too', () => {
    const c = load(
      'http:\n  listen: 127.0.0.1:8080\n  legacy: { url: "http://127.0.0.1:8081" }\n  doh: false\n',
    )
    expect(c.overload).toEqual({ maxDelay: 0, retryAfter: 1000, dnsUdp: 'drop' })
  })
})

describe('overload settings', () => {
  it('take durations with units, and servfail for UDP', () => {
    const c = load(`${DNS}overload: { maxDelay: 50ms, retryAfter: 5s, dnsUdp: servfail }\n`)
    expect(c.overload).toEqual({ maxDelay: 50, retryAfter: 5000, dnsUdp: 'servfail' })
  })

  it('take maxDelay 0, which never sheds', () => {
    expect(load(`${DNS}overload: { maxDelay: 0ms }\n`).overload.maxDelay).toBe(0)
  })

  it('refuse a dnsUdp other than drop or servfail, naming the key and the choices', () => {
    const message = problem(`${DNS}overload: { dnsUdp: bogus }\n`)
    const line = problemLines(message).find((l) => l.startsWith('  overload.dnsUdp: '))
    expect(line, message).toBeDefined()
    expect(line).toContain('"drop"')
    expect(line).toContain('"servfail"')
  })

  it('refuse an unknown key and a bad duration', () => {
    expect(problem(`${DNS}overload: { maxDelayy: 20ms }\n`)).toContain('maxDelayy')
    expect(problemLines(problem(`${DNS}overload: { retryAfter: soon }\n`))).toContain(
      '  overload.retryAfter: expected a duration like "500ms", "2s" or "1m", got "soon"',
    )
  })
})

describe('dns.udp.receiveBuffer', () => {
  it('takes 0, 4 KiB and more, as bytes or a size', () => {
    for (const [given, bytes] of [
      ['0', 0],
      ['4096', 4096],
      ['4KiB', 4096],
      ['1MiB', 1024 * 1024],
      ['212992', 212_992],
    ] as const)
      expect(load(`${DNS}  udp: { receiveBuffer: ${given} }\n`).dns?.udp.receiveBuffer, given).toBe(
        bytes,
      )
  })

  it('refuses a buffer under 4 KiB, naming the floor and the way to the system default', () => {
    for (const small of ['1000', '4095', '1KiB']) {
      const message = problem(`${DNS}  udp: { receiveBuffer: ${small} }\n`)
      expect(problemLines(message), message).toContain(
        '  dns.udp.receiveBuffer: a receive buffer under 4 KiB holds a handful of queries; use 0 for the system default',
      )
    }
  })

  it('refuses what is not a size, and an unknown key under dns.udp', () => {
    expect(problemLines(problem(`${DNS}  udp: { receiveBuffer: lots }\n`))).toContain(
      '  dns.udp.receiveBuffer: expected a size like "64MiB" or a number of bytes, got "lots"',
    )
    expect(problem(`${DNS}  udp: { sendBuffer: 4096 }\n`)).toContain('sendBuffer')
  })
})
