// A record codec held to BIND 9.18 (for the codec tests): named-compilezone reads
// the same records, and the wire a codec makes as `\#`; what BIND prints, refuses
// or cannot print as the type is what the codec must do.

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { CutoverError } from '../../common/cutover-error.ts'
import { nameToWire } from '../name.ts'
import type { Token } from '../rdata.ts'
import type { RdataCodec } from './codec.ts'

export const ORIGIN = nameToWire('test.')
export const HEAD = [
  '$ORIGIN test.',
  '$TTL 300',
  '@ SOA ns hm 1 1 1 1 1',
  '@ NS ns',
  'ns A 192.0.2.1',
]

/** Tokens as the zone reader gives them: `"..."` is one quoted token, quotes removed. */
export function tokens(rdata: string): Token[] {
  return rdata
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((t) =>
      t.length >= 2 && t.startsWith('"') && t.endsWith('"')
        ? { text: t.slice(1, -1), quoted: true }
        : { text: t, quoted: false },
    )
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
/** RFC 3597 form, as BIND prints it. */
export const generic = (b: Uint8Array) =>
  `\\# ${b.length}${b.length > 0 ? ` ${hex(b).toUpperCase()}` : ''}`
export const wireOf = (hexText: string) => Buffer.from(hexText.replaceAll(' ', ''), 'hex')

export interface BindCases {
  /** Text BIND takes: we print what it prints, and it reads our wire as that text. */
  accepted: readonly string[]
  /** Text BIND refuses, and the token our error names (undefined: the end of the record). */
  refused: readonly (readonly [string, string | undefined])[]
  /** Wire (hex) BIND does not print as the type: it refuses it, or keeps it and prints `\#`. */
  malformed: readonly (readonly [string, string, 'refused' | 'generic'])[]
}

export interface BindReading {
  /** Owner -> its rdata as BIND prints it (when the whole zone loaded). */
  printed: Map<string, string>
  /** Owner -> the token BIND's error names ('' none, undefined the end of the line). */
  refused: Map<string, string | undefined>
}

/** named-compilezone's reading of a zone holding `records` ([owner, rdata]) of `type`. */
export function readByBind(
  type: string,
  records: readonly (readonly [string, string])[],
): BindReading {
  let tool: string
  try {
    tool = execFileSync('which', ['named-compilezone'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error('named-compilezone (BIND 9.18) is not on PATH: apt-get install bind9-utils')
  }
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bind-'))
  try {
    const file = join(dir, 'test.zone')
    const lines = records.map(([owner, rdata]) => `${owner} ${type} ${rdata}`)
    writeFileSync(file, [...HEAD, ...lines, ''].join('\n'))
    const run = spawnSync(tool, ['-s', 'full', '-o', '-', 'test', file], { encoding: 'utf8' })
    const printed = new Map<string, string>()
    const line = new RegExp(`^(\\S+)\\.test\\.\\s+\\d+\\s+IN\\s+${type}\\t+(.*)$`, 'gm')
    for (const m of run.stdout.matchAll(line)) printed.set(m[1], m[2])
    const refused = new Map<string, string | undefined>()
    const error = /^dns_rdata_fromtext: .*:(\d+): (?:near (?:'(.*?)'|(eol)): )?/gm
    for (const m of run.stderr.matchAll(error))
      refused.set(records[Number(m[1]) - HEAD.length - 1][0], m[3] ? undefined : (m[2] ?? ''))
    return { printed, refused }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A codec against BIND: one zone of what BIND takes (it must load), one of what it refuses. */
export function describeAgainstBind(type: string, codec: RdataCodec, cases: BindCases): void {
  const fromText = (rdata: string) => codec.fromText(tokens(rdata), ORIGIN)
  const toText = (wire: Uint8Array) => codec.toText(wire, 0, wire.length)
  const malformed = (verdict: 'refused' | 'generic') =>
    cases.malformed.flatMap(([, h, bind], i): [string, string][] =>
      bind === verdict ? [[`m${i}`, generic(wireOf(h))]] : [],
    )
  let loaded: BindReading
  let refused: BindReading

  beforeAll(() => {
    // Our wire goes in too, as `\#`: BIND must print it as it prints the text.
    const ours = cases.accepted.map((rdata, i): [string, string] => {
      try {
        return [`w${i}`, generic(fromText(rdata))]
      } catch {
        return [`w${i}`, '\\# 0'] // that case's own test fails on the throw
      }
    })
    const records = [
      ...cases.accepted.map((rdata, i): [string, string] => [`a${i}`, rdata]),
      ...ours,
      ...malformed('generic'),
    ]
    loaded = readByBind(type, records)
    const refusedHere = records.filter(([owner]) => loaded.refused.has(owner))
    if (refusedHere.length > 0 || loaded.printed.size === 0)
      throw new Error(
        `BIND refused records it should take: ${refusedHere.map((r) => r.join(' ')).join('; ')}`,
      )
    refused = readByBind(type, [
      ...cases.refused.map(([rdata], i): [string, string] => [`r${i}`, rdata]),
      ...malformed('refused'),
    ])
  })

  describe(`${type}, text BIND accepts, printed as BIND prints it`, () => {
    it.each(cases.accepted.map((rdata, i) => [rdata, i] as const))('%s', (rdata, i) => {
      const wire = fromText(rdata)
      const canonical = loaded.printed.get(`a${i}`)
      expect(toText(wire)).toBe(canonical)
      expect(loaded.printed.get(`w${i}`)).toBe(canonical)
      expect(hex(fromText(canonical!))).toBe(hex(wire))
    })
  })

  describe(`${type}, text BIND refuses`, () => {
    it.each(cases.refused.map(([rdata, token], i) => [rdata, token, i] as const))(
      '%s (at %s)',
      (rdata, token, i) => {
        const at = token === undefined ? 'at end of record' : `at '${token}'`
        expect(() => fromText(rdata)).toThrow(CutoverError)
        expect(() => fromText(rdata)).toThrow(`${type} rdata ${at}: expected `)
        expect(refused.refused.has(`r${i}`)).toBe(true)
        const near = refused.refused.get(`r${i}`)
        if (near !== '') expect(near).toBe(token)
      },
    )
  })

  describe(`${type}, wire BIND does not print as ${type}`, () => {
    it.each(cases.malformed.map((m, i) => [...m, i] as const))('%s', (_what, h, bind, i) => {
      expect(toText(wireOf(h))).toBeUndefined()
      if (bind === 'generic') expect(loaded.printed.get(`m${i}`)).toBe(generic(wireOf(h)))
      else expect(refused.refused.has(`m${i}`)).toBe(true)
    })
  })
}

/** A codec's cases as tables: text in, BIND's text out; refusals; wire both ways. */
export interface CodecTable {
  /** Zone-file input -> BIND's canonical text. */
  reads: readonly (readonly [string, string])[]
  /** Input BIND refuses -> the token our error names (undefined: the end of the record). */
  refused: readonly (readonly [string, string | undefined])[]
  /** Wire (hex) BIND accepts -> its text. */
  wire: readonly (readonly [string, string])[]
  /** Wire BIND refuses: toText gives undefined. */
  badWire: readonly string[]
  /** Wire BIND keeps but prints only as `\#`: toText gives undefined, for `\#` to be used. */
  genericOnly?: readonly string[]
}

/**
 * `codec` held to BIND on `table`: two named-compilezone runs (one zone it must
 * load, one whose every record it must refuse). `tokenize` splits a record's
 * data as the zone reader does.
 */
export function describeCodecTable(
  type: string,
  codec: RdataCodec,
  table: CodecTable,
  tokenize: (text: string) => Token[] = tokens,
): void {
  const fromText = (input: string) => codec.fromText(tokenize(input), ORIGIN)
  const toText = (wire: Buffer) => codec.toText(wire, 0, wire.length)
  const genericOnly = table.genericOnly ?? []
  let accepted: BindReading
  let refused: BindReading

  beforeAll(() => {
    // Our wire goes in too, as `\#`: BIND must print it as it prints the text.
    accepted = readByBind(type, [
      ...table.reads.map(([input], i) => [`a${i}`, input] as const),
      ...table.reads.map(([input], i) => [`w${i}`, generic(fromText(input))] as const),
      ...table.wire.map(([hex], i) => [`x${i}`, generic(wireOf(hex))] as const),
      ...genericOnly.map((hex, i) => [`g${i}`, generic(wireOf(hex))] as const),
    ])
    refused = readByBind(type, [
      ...table.refused.map(([input], i) => [`r${i}`, input] as const),
      ...table.badWire.map((hex, i) => [`b${i}`, generic(wireOf(hex))] as const),
    ])
  })

  describe(`${type} against BIND`, () => {
    it('BIND takes every case meant to be taken', () => {
      expect([...accepted.refused.keys()]).toEqual([])
    })

    it('reads what BIND reads, to the same wire, and prints it as BIND does', () => {
      for (const [i, [input, canonical]] of table.reads.entries()) {
        const wire = fromText(input)
        expect(accepted.printed.get(`a${i}`), input).toBe(canonical)
        expect(accepted.printed.get(`w${i}`), input).toBe(canonical)
        expect(toText(wire), input).toBe(canonical)
        expect(fromText(canonical), canonical).toEqual(wire)
      }
    })

    it('refuses what BIND refuses, naming the token at fault', () => {
      for (const [i, [input, token]] of table.refused.entries()) {
        expect(refused.refused.has(`r${i}`), input).toBe(true)
        const at = token === undefined ? 'end of record' : `'${token}'`
        expect(() => fromText(input), input).toThrow(`${type} rdata at ${at}: expected `)
      }
    })

    it('prints wire BIND accepts as BIND does', () => {
      for (const [i, [hex, canonical]] of table.wire.entries()) {
        expect(accepted.printed.get(`x${i}`), hex).toBe(canonical)
        expect(toText(wireOf(hex)), hex).toBe(canonical)
      }
    })

    it('gives undefined for wire BIND refuses, or prints only as \\#', () => {
      for (const [i, hex] of table.badWire.entries()) {
        expect(refused.refused.has(`b${i}`), hex).toBe(true)
        expect(toText(wireOf(hex)), hex).toBeUndefined()
      }
      for (const [i, hex] of genericOnly.entries()) {
        expect(accepted.printed.get(`g${i}`), hex).toBe(generic(wireOf(hex)))
        expect(toText(wireOf(hex)), hex).toBeUndefined()
      }
    })
  })
}
