// ratelimit: token buckets per client address, path or header value; a request
// that finds its bucket empty gets a local reply (429 by default) with Retry-After.

import { z } from 'zod'
import { duration } from '../../common/units.ts'
import type { HttpContext, HttpModule, HttpRequest, Rule } from '../http-module.ts'
import { compilePathMatch, pathMatchSchema } from '../shared/path-match.ts'
import { counterSeries } from '../shared/registered-metrics.ts'
import { parseRule } from '../shared/rule-schema.ts'
import { ANSWER, NEXT, type Verdict } from '../verdict.ts'

import { type BucketStore, type BucketStoreFactory, memoryBucketStore } from './bucket-store.ts'
import { compileKey, keySchema } from './rule-key.ts'

export const NAME = 'ratelimit'

const schema = z.strictObject({
  type: z.literal(NAME),
  key: keySchema,
  rate: z.int().positive(),
  per: duration.refine((ms) => ms > 0, { error: 'expected a duration above zero' }),
  burst: z.int().positive().optional(),
  status: z.int().min(400).max(599).default(429),
  maxBuckets: z.int().positive().default(100_000),
  match: pathMatchSchema.optional(),
})

const BODY = Buffer.from('rate limit exceeded\n')

export interface RatelimitOptions {
  /** Makes each rule's bucket store; by default the one in the module env, else in-process. */
  store?: BucketStoreFactory
  /** The clock in ms; it must agree across the workers sharing a store. */
  now?: () => number
}

interface CompiledRule {
  matches: ((path: string) => string[] | undefined) | undefined
  keyOf: (request: HttpRequest) => string | undefined
  store: BucketStore
  status: number
}

// performance.now() alone does not go back when the wall clock is set back, but
// its origin differs per process; added to timeOrigin it agrees across workers.
const processClock = (): number => performance.timeOrigin + performance.now()

/** The ratelimit module, with its bucket store and clock chosen by the caller. */
export function createRatelimit(options: RatelimitOptions = {}): HttpModule {
  const now = options.now ?? processClock
  return {
    name: NAME,
    ruleTypes: [NAME],
    everywhere: true,
    site(rules: readonly Rule[], where: readonly string[], env) {
      const makeStore = options.store ?? env.buckets ?? memoryBucketStore
      const compiled: CompiledRule[] = rules.map((rule, i) => {
        const r = parseRule(schema, rule, where[i])
        const limits = {
          rate: r.rate,
          perMs: r.per,
          burst: r.burst ?? r.rate,
          maxBuckets: r.maxBuckets,
        }
        return {
          matches: r.match === undefined ? undefined : compilePathMatch(r.match),
          keyOf: compileKey(r.key),
          store: makeStore(where[i], limits),
          status: r.status,
        }
      })
      const { allowed, limited } = counterSeries(
        env.registry,
        `cutover_${NAME}_requests_total`,
        'Requests a rate limit rule applied to, by result',
        'result',
        ['allowed', 'limited'],
      )
      // Both series exist from the start, so rate() sees the first increment.
      allowed.inc(0)
      limited.inc(0)
      const refuse = (ctx: HttpContext, r: CompiledRule, wait: number): Verdict => {
        limited.inc()
        ctx.reply = {
          status: r.status,
          headers: [
            'retry-after',
            String(Math.max(1, Math.ceil(wait))),
            'content-type',
            'text/plain',
          ],
          body: BODY,
        }
        return ANSWER
      }
      /** The rules from `from` on; a store that answers later continues the walk when it does. */
      const check = (
        ctx: HttpContext,
        from: number,
        applied: boolean,
      ): Verdict | Promise<Verdict> => {
        const request = ctx.request
        for (let i = from; i < compiled.length; i++) {
          const r = compiled[i]
          if (r.matches !== undefined && r.matches(request.path) === undefined) continue
          const key = r.keyOf(request)
          if (key === undefined) continue
          applied = true
          const wait = r.store.take(key, now())
          if (typeof wait !== 'number')
            return wait.then((w) => (w === 0 ? check(ctx, i + 1, true) : refuse(ctx, r, w)))
          if (wait !== 0) return refuse(ctx, r, wait)
        }
        if (applied) allowed.inc()
        return NEXT
      }
      return { request: (ctx) => check(ctx, 0, false) }
    },
  }
}

export const ratelimitModule: HttpModule = createRatelimit()
