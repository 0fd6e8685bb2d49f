// RFC 1035 master files (zone files) as BIND reads them: $ORIGIN, $TTL, $INCLUDE,
// `@`, relative names, parentheses across lines, comments, quoted strings, class
// and TTL in either order, RFC 3597 generic data. Pure: includes are read through
// a function the caller passes. Every error names the file, line and token.

import { CutoverError } from '../common/cutover-error.ts'
import { Class, classCode, Type, typeCode, typeName } from './constants.ts'
import { fqdnWire, isSubdomain, nameToWire, wireToText } from './name.ts'
import { type Rdata, rdataFromText, type Token } from './rdata.ts'
import { parseTtl } from './ttl.ts'

export interface ZoneRecord {
  /** Owner name, uncompressed wire form, case as written. */
  owner: Buffer
  type: number
  ttl: number
  rdata: Rdata
  file: string
  line: number
}

export interface MasterFileSource {
  text: string
  file: string
}

export interface ParseOptions {
  /** The zone's origin, e.g. `example.com.`. */
  origin: string
  /** Reads an `$INCLUDE`d file named relative to the file that includes it. */
  include?: (path: string, from: string) => MasterFileSource
}

export interface ParsedZone {
  records: ZoneRecord[]
  /** Things BIND would log and skip (out-of-zone data), one line each. */
  warnings: string[]
}

const MAX_INCLUDE_DEPTH = 16

interface Line {
  line: number
  blankOwner: boolean
  tokens: Token[]
}

/** Parses a zone's master file and everything it includes. */
export function parseMasterFile(source: MasterFileSource, options: ParseOptions): ParsedZone {
  const zoneOrigin = fqdnWire(options.origin)
  const out: ParsedZone = { records: [], warnings: [] }
  const state = {
    defaultTtl: undefined as number | undefined,
    lastTtl: undefined as number | undefined,
  }

  const parseFile = (src: MasterFileSource, origin: Buffer, depth: number) => {
    let owner: Buffer | undefined
    for (const { line, blankOwner, tokens } of logicalLines(src)) {
      const fail = (token: string | undefined, why: string) =>
        new CutoverError(
          'ZONE_SYNTAX',
          `${src.file}:${line}: ${why}${token === undefined ? '' : ` (at '${token}')`}`,
        )
      const first = tokens[0]
      if (!blankOwner && first.text.startsWith('$') && !first.quoted) {
        const arg = tokens[1]?.text
        switch (first.text.toUpperCase()) {
          case '$ORIGIN':
            if (!arg || tokens.length > 2)
              throw fail(first.text, '$ORIGIN takes exactly one domain name')
            origin = nameOf(arg, origin, fail)
            break
          case '$TTL': {
            const ttl = arg === undefined ? undefined : parseTtl(arg)
            if (ttl === undefined || tokens.length > 2)
              throw fail(arg ?? first.text, '$TTL takes one TTL (seconds, or units like 1h30m)')
            state.defaultTtl = ttl
            break
          }
          case '$INCLUDE': {
            if (!arg || tokens.length > 3)
              throw fail(first.text, '$INCLUDE takes a file name and an optional origin')
            if (!options.include) throw fail(arg, '$INCLUDE is not available here')
            if (depth >= MAX_INCLUDE_DEPTH)
              throw fail(arg, `$INCLUDE nested deeper than ${MAX_INCLUDE_DEPTH} (a loop?)`)
            let included: MasterFileSource
            try {
              included = options.include(arg, src.file)
            } catch (err) {
              throw fail(arg, `cannot read included file: ${(err as Error).message}`)
            }
            const childOrigin = tokens[2] ? nameOf(tokens[2].text, origin, fail) : origin
            // The included file's $ORIGIN does not leak back (RFC 1035 section 5.1).
            parseFile(included, childOrigin, depth + 1)
            break
          }
          default:
            throw fail(
              first.text,
              `unknown directive ${first.text} (supported: $ORIGIN, $TTL, $INCLUDE)`,
            )
        }
        continue
      }

      let t = 0
      if (!blankOwner) {
        owner = first.text === '@' ? origin : nameOf(first.text, origin, fail)
        t = 1
      } else if (!owner) {
        throw fail(first.text, 'record with no owner name and no previous owner to inherit')
      }

      let ttl: number | undefined
      let klass: number | undefined
      let classToken: string | undefined
      for (let i = 0; i < 2 && t < tokens.length; i++) {
        const text = tokens[t].text
        const asTtl = ttl === undefined ? parseTtl(text) : undefined
        const asClass = klass === undefined ? classCode(text) : undefined
        if (asTtl !== undefined) ttl = asTtl
        else if (asClass !== undefined) {
          klass = asClass
          classToken = text
        } else break
        t++
      }
      const typeToken = tokens[t]
      if (!typeToken) throw fail(undefined, 'expected a record type at the end of the line')
      const type = typeCode(typeToken.text)
      if (type === undefined) throw fail(typeToken.text, 'expected a TTL, a class or a record type')
      if (
        type === Type.OPT ||
        type === Type.ANY ||
        type === Type.AXFR ||
        type === Type.IXFR ||
        type === Type.TSIG
      ) {
        throw fail(typeToken.text, `${typeName(type)} is a meta type and cannot appear in a zone`)
      }
      if (klass !== undefined && klass !== Class.IN) {
        throw fail(classToken, 'only class IN is supported')
      }
      let rdata: Rdata
      try {
        rdata = rdataFromText(type, tokens.slice(t + 1), origin)
      } catch (err) {
        throw fail(undefined, (err as Error).message)
      }
      if (ttl !== undefined) state.lastTtl = ttl
      else if (state.defaultTtl !== undefined) ttl = state.defaultTtl
      else if (state.lastTtl !== undefined) ttl = state.lastTtl
      else if (type === Type.SOA) {
        // BIND: "no TTL specified; using SOA MINTTL instead", and it becomes the default.
        ttl = rdata.wire.readUInt32BE(rdata.wire.length - 4)
        state.defaultTtl = ttl
      } else throw fail(typeToken.text, 'no TTL given and no $TTL before this record')

      if (!isSubdomain(owner, zoneOrigin)) {
        out.warnings.push(`${src.file}:${line}: ignoring out-of-zone data (${wireToText(owner)})`)
        continue
      }
      out.records.push({ owner, type, ttl, rdata, file: src.file, line })
    }
  }

  parseFile(source, zoneOrigin, 0)
  return out
}

function nameOf(
  text: string,
  origin: Buffer,
  fail: (token: string, why: string) => CutoverError,
): Buffer {
  if (text === '@') return origin
  try {
    return nameToWire(text, origin)
  } catch (err) {
    throw fail(text, (err as Error).message)
  }
}

/**
 * Splits a file into logical lines: comments dropped, parenthesised groups joined,
 * tokens kept raw (escapes included) with a flag for quoted strings.
 */
function* logicalLines(src: MasterFileSource): Generator<Line> {
  const text = src.text
  let lineNo = 1
  let startLine = 1
  let depth = 0
  let tokens: Token[] = []
  let blankOwner = false
  let atLineStart = true
  const fail = (why: string) => new CutoverError('ZONE_SYNTAX', `${src.file}:${lineNo}: ${why}`)

  for (let i = 0; i <= text.length; ) {
    const ch = i < text.length ? text[i] : '\n'
    if (ch === '\n' || i === text.length) {
      if (depth === 0 && tokens.length > 0) {
        yield { line: startLine, blankOwner, tokens }
        tokens = []
      }
      if (i === text.length) break
      i++
      lineNo++
      if (depth === 0) atLineStart = true
      continue
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      if (atLineStart && depth === 0 && tokens.length === 0) blankOwner = true
      atLineStart = false
      i++
      continue
    }
    if (atLineStart) {
      blankOwner = false
      atLineStart = false
    }
    if (tokens.length === 0 && depth === 0) startLine = lineNo
    if (ch === ';') {
      while (i < text.length && text[i] !== '\n') i++
      continue
    }
    if (ch === '(') {
      depth++
      i++
      continue
    }
    if (ch === ')') {
      if (depth === 0) throw fail("')' without a matching '('")
      depth--
      i++
      continue
    }
    if (ch === '"') {
      let j = i + 1
      let s = ''
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\n') throw fail('quoted string runs past the end of the line')
        if (text[j] === '\\' && j + 1 < text.length) {
          s += text[j] + text[j + 1]
          j += 2
        } else {
          s += text[j++]
        }
      }
      if (j >= text.length) throw fail('unterminated quoted string')
      tokens.push({ text: s, quoted: true })
      i = j + 1
      continue
    }
    let j = i
    let s = ''
    while (j < text.length && !' \t\r\n;()"'.includes(text[j])) {
      if (text[j] === '\\' && j + 1 < text.length && text[j + 1] !== '\n') {
        s += text[j] + text[j + 1]
        j += 2
      } else {
        s += text[j++]
      }
    }
    tokens.push({ text: s, quoted: false })
    i = j
  }
  if (depth > 0)
    throw new CutoverError('ZONE_SYNTAX', `${src.file}:${startLine}: '(' is never closed`)
}
