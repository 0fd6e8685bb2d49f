// headers: adds, sets and removes request headers before the origin and response
// headers after it (on local replies too), for requests whose path matches.

import { z } from 'zod'
import {
  HEADER_NAME,
  type HeaderList,
  headerAdd,
  headerRemove,
  headerSet,
} from '../../common/header-list.ts'
import type { HttpModule, Rule } from '../http-module.ts'
import { compilePathMatch, pathMatchSchema } from '../shared/path-match.ts'
import { parseRule } from '../shared/rule-schema.ts'
import { NEXT } from '../verdict.ts'

export const NAME = 'headers'

const name = z.string().regex(HEADER_NAME, 'not a valid header name')
const value = z
  .string()
  .refine((v) => !/[\r\n\0]/.test(v), 'header values may not contain CR, LF or NUL')
const edits = z
  .strictObject({
    add: z.record(name, value).default({}),
    set: z.record(name, value).default({}),
    remove: z.array(name).default([]),
  })
  .prefault({})

const schema = z.strictObject({
  type: z.literal(NAME),
  match: pathMatchSchema.optional(),
  request: edits,
  response: edits,
})

/** The edits of one rule, applied in a fixed order: remove, set, add. */
function compileEdits(e: z.output<typeof edits>): ((list: HeaderList) => void) | undefined {
  const remove = e.remove.map((n) => n.toLowerCase())
  const set = Object.entries(e.set)
  const add = Object.entries(e.add)
  if (remove.length + set.length + add.length === 0) return undefined
  return (list) => {
    for (const n of remove) headerRemove(list, n)
    for (const [n, v] of set) headerSet(list, n, v)
    for (const [n, v] of add) headerAdd(list, n, v)
  }
}

export const headersModule: HttpModule = {
  name: NAME,
  ruleTypes: [NAME],
  site(rules: readonly Rule[], where: readonly string[]) {
    const compiled = rules.map((rule, i) => {
      const r = parseRule(schema, rule, where[i])
      return {
        matches: r.match ? compilePathMatch(r.match) : () => [],
        request: compileEdits(r.request),
        response: compileEdits(r.response),
      }
    })
    return {
      request(ctx) {
        for (const r of compiled)
          if (r.request && r.matches(ctx.request.path)) r.request(ctx.request.headers)
        return NEXT
      },
      response(ctx, response) {
        for (const r of compiled)
          if (r.response && r.matches(ctx.request.path)) r.response(response.headers)
      },
    }
  },
}
