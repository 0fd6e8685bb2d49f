// redirect: sends matching requests elsewhere with 301, 302, 307 or 308; a regex
// match's captures fill `$1`..`$9` in the target (for a prefix match, `$1` is the
// rest of the path), `$path` is the whole path;
// the query string is kept unless the rule says otherwise.

import { z } from 'zod'
import type { HttpModule, Rule } from '../http-module.ts'
import { compilePathMatch, pathMatchSchema } from '../shared/path-match.ts'
import { parseRule } from '../shared/rule-schema.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { redirectCounter } from './metrics.ts'

export const NAME = 'redirect'

const schema = z.strictObject({
  type: z.literal(NAME),
  match: pathMatchSchema,
  to: z.string().min(1),
  status: z
    .union([z.literal(301), z.literal(302), z.literal(307), z.literal(308)], {
      error: 'expected 301, 302, 307 or 308',
    })
    .default(301),
  preserveQuery: z.boolean().default(true),
})

/** Splits `to` into literal parts and references, once: per request it is a join. */
function compileTarget(to: string): (captures: string[], path: string) => string {
  const parts = to.split(/(\$path|\$[1-9])/)
  return (captures, path) => {
    let out = ''
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]
      if (i % 2 === 0) out += p
      else out += p === '$path' ? path : (captures[Number(p[1])] ?? '')
    }
    return out
  }
}

/**
 * `location` with what a URI may not hold percent-encoded: the normalised path
 * is decoded, so a capture can carry spaces, CR/LF or non-ASCII, which would
 * otherwise split or break the response head.
 */
function asUriReference(location: string): string {
  return location.replace(/[^\x21-\x7e]/gu, encodeURIComponent)
}

export const redirectModule: HttpModule = {
  name: NAME,
  ruleTypes: [NAME],
  everywhere: { refused: 'it answers instead of the legacy' },
  site(rules: readonly Rule[], where: readonly string[], env) {
    const compiled = rules.map((rule, i) => {
      const r = parseRule(schema, rule, where[i])
      return {
        matches: compilePathMatch(r.match),
        target: compileTarget(r.to),
        status: r.status,
        preserveQuery: r.preserveQuery,
        sent: redirectCounter(env.registry, r.status),
      }
    })
    return {
      request(ctx) {
        const { path, query } = ctx.request
        for (const r of compiled) {
          const captures = r.matches(path)
          if (captures === undefined) continue
          let location = r.target(captures, path)
          if (r.preserveQuery && query !== '')
            location += (location.includes('?') ? '&' : '?') + query
          ctx.reply = {
            status: r.status,
            headers: ['location', asUriReference(location), 'content-length', '0'],
            body: EMPTY,
          }
          r.sent.inc()
          return ANSWER
        }
        return NEXT
      },
    }
  },
}

const EMPTY = Buffer.alloc(0)
