// headers: adds, sets and removes request headers before the origin and response
// headers after it (on local replies too), for requests whose path matches.

import { z } from 'zod'
import { type HeaderList, headerAdd, headerRemove, headerSet } from '../../common/header-list.ts'
import type { HttpModule, Rule } from '../http-module.ts'
import { headerNameSchema, headerValueSchema } from '../shared/header-schema.ts'
import { compilePathMatch, pathMatchSchema } from '../shared/path-match.ts'
import { parseRule } from '../shared/rule-schema.ts'
import { NEXT } from '../verdict.ts'
import { headersMetrics } from './metrics.ts'

export const NAME = 'headers'

const name = headerNameSchema
const value = headerValueSchema
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

type Edit = (list: HeaderList) => boolean

/**
 * The edits of one rule, applied in a fixed order: remove, set, add. Each call
 * says whether it changed the list: a set or an add always does, a remove when
 * the field was there.
 */
function compileEdits(e: z.output<typeof edits>): Edit | undefined {
  const remove = e.remove.map((n) => n.toLowerCase())
  const set = Object.entries(e.set)
  const add = Object.entries(e.add)
  if (remove.length + set.length + add.length === 0) return undefined
  const writes = set.length + add.length > 0
  return (list) => {
    let removed = 0
    for (const n of remove) removed += headerRemove(list, n)
    for (const [n, v] of set) headerSet(list, n, v)
    for (const [n, v] of add) headerAdd(list, n, v)
    return writes || removed > 0
  }
}

/** A rule's edits for one phase, with the paths it applies to. */
interface PhaseRule {
  matches: (path: string) => string[] | undefined
  edit: Edit
}

const NO_GROUPS: string[] = []
const everyPath = (): string[] => NO_GROUPS

/** Applies, in site order, every rule whose match selects `path`; whether any changed `list`. */
function applyRules(rules: readonly PhaseRule[], path: string, list: HeaderList): boolean {
  let changed = false
  for (const r of rules) if (r.matches(path) !== undefined && r.edit(list)) changed = true
  return changed
}

export const headersModule: HttpModule = {
  name: NAME,
  ruleTypes: [NAME],
  everywhere: true,
  site(rules: readonly Rule[], where: readonly string[], env) {
    const onRequest: PhaseRule[] = []
    const onResponse: PhaseRule[] = []
    rules.forEach((rule, i) => {
      const r = parseRule(schema, rule, where[i])
      const matches = r.match ? compilePathMatch(r.match) : everyPath
      const request = compileEdits(r.request)
      const response = compileEdits(r.response)
      if (request) onRequest.push({ matches, edit: request })
      if (response) onResponse.push({ matches, edit: response })
    })
    const metrics = headersMetrics(env.registry)
    return {
      request(ctx) {
        if (applyRules(onRequest, ctx.request.path, ctx.request.headers)) metrics.request.inc()
        return NEXT
      },
      response(ctx, response) {
        if (applyRules(onResponse, ctx.request.path, response.headers)) metrics.response.inc()
      },
    }
  },
}
