// static: answers matching requests with a fixed status, headers and body
// (maintenance pages, robots.txt), without touching the origin.

import { z } from 'zod'
import type { HeaderList } from '../../common/header-list.ts'
import type { HttpModule, Rule } from '../http-module.ts'
import { headerNameSchema, headerValueSchema } from '../shared/header-schema.ts'
import { compilePathMatch, pathMatchSchema } from '../shared/path-match.ts'
import { parseRule } from '../shared/rule-schema.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { staticCounter } from './metrics.ts'

export const NAME = 'static'

const schema = z.strictObject({
  type: z.literal(NAME),
  match: pathMatchSchema,
  methods: z.array(z.string().toUpperCase()).default(['GET', 'HEAD']),
  status: z.int().min(200).max(599).default(200),
  headers: z.record(headerNameSchema, headerValueSchema).default({}),
  body: z.string().default(''),
})

export const staticModule: HttpModule = {
  name: NAME,
  ruleTypes: [NAME],
  everywhere: { refused: 'it answers instead of the legacy' },
  site(rules: readonly Rule[], where: readonly string[], env) {
    const compiled = rules.map((rule, i) => {
      const r = parseRule(schema, rule, where[i])
      const body = Buffer.from(r.body)
      const headers: HeaderList = Object.entries(r.headers).flat()
      if (!Object.keys(r.headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers.push('content-type', 'text/plain; charset=utf-8')
      }
      return {
        matches: compilePathMatch(r.match),
        methods: new Set(r.methods),
        status: r.status,
        headers,
        body,
      }
    })
    const served = staticCounter(env.registry)
    return {
      request(ctx) {
        const { method, path } = ctx.request
        for (const r of compiled) {
          if (!r.methods.has(method) || r.matches(path) === undefined) continue
          ctx.reply = { status: r.status, headers: [...r.headers], body: r.body }
          served.inc()
          return ANSWER
        }
        return NEXT
      },
    }
  },
}
