// Suites: YAML files of cases. A DNS case is a question and how to ask it; an
// HTTP case is a request; each may allow expected differences. Loaded and
// validated with errors that name the file, the case and the key.

import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { CutoverError } from '../common/cutover-error.ts'
import { issueText } from '../common/issue-text.ts'
import { typeCode } from '../dns/constants.ts'

const dnsCase = z.strictObject({
  name: z.string().min(1),
  type: z
    .string()
    .refine((t) => typeCode(t) !== undefined, { message: 'expected a record type like A or AAAA' })
    .default('A'),
  class: z.enum(['IN', 'CH']).default('IN'),
  transport: z.enum(['udp', 'tcp', 'doh']).default('udp'),
  /** EDNS UDP size, or false for a query without EDNS. */
  edns: z.union([z.literal(false), z.int().min(0).max(65535)]).default(1232),
  do: z.boolean().default(false),
  rd: z.boolean().default(true),
  /** Fields whose differences are expected for this case (e.g. `additional`, `answer.ttl`). */
  allow: z.array(z.string()).default([]),
})

const httpCase = z.strictObject({
  method: z.string().toUpperCase().default('GET'),
  host: z.string().min(1),
  /** Path and query, like `/old/page?x=1`. */
  path: z.string().startsWith('/'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  /** Fields to ignore for this case (`header.x-foo`, `body`, `status`). */
  ignore: z.array(z.string()).default([]),
  compareBody: z.enum(['exact', 'json', 'ignore']).optional(),
})

const suite = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('dns'),
    /** TTLs may differ by this many seconds. */
    ttlTolerance: z.int().min(0).default(0),
    cases: z.array(dnsCase).min(1),
  }),
  z.strictObject({
    kind: z.literal('http'),
    /** More volatile headers for every case of the suite. */
    ignoreHeaders: z.array(z.string().toLowerCase()).default([]),
    cases: z.array(httpCase).min(1),
  }),
])

export type DnsCase = z.output<typeof dnsCase>
export type HttpCase = z.output<typeof httpCase>
export type Suite = z.output<typeof suite> & { file: string }

export function parseSuite(text: string, file: string): Suite {
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err) {
    throw new CutoverError(
      'USAGE',
      `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    )
  }
  const r = suite.safeParse(raw, { reportInput: true })
  if (!r.success) {
    const lines = r.error.issues.map(
      (i) =>
        `  ${
          i.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '') || '(top level)'
        }: ${issueText(i)}`,
    )
    throw new CutoverError('USAGE', `${file}: invalid suite:\n${lines.join('\n')}`)
  }
  return { ...r.data, file }
}

export function loadSuite(file: string): Suite {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new CutoverError('USAGE', `cannot read suite ${file}: ${(err as Error).message}`)
  }
  return parseSuite(text, file)
}

export function dnsCaseId(c: DnsCase): string {
  return `${c.name} ${c.type.toUpperCase()}${c.class === 'IN' ? '' : ` ${c.class}`} ${c.transport} edns=${c.edns === false ? 'off' : c.edns}${c.do ? ' do' : ''}${c.rd ? '' : ' norec'}`
}

export function httpCaseId(c: HttpCase): string {
  return `${c.method} ${c.host}${c.path}`
}
