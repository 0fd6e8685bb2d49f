// access: allows or denies requests by client address (CIDR, IPv4 and IPv6),
// method, path and header. Rules are read in order; the first whose conditions
// all hold decides; a request no rule matches is allowed (and not counted).

import { STATUS_CODES } from 'node:http'
import { z } from 'zod'

import { headerAll } from '../../common/header-list.ts'
import type { HttpModule, HttpRequest, Rule } from '../http-module.ts'
import { headerNameSchema } from '../shared/header-schema.ts'
import { compilePathMatch, pathMatchSchema } from '../shared/path-match.ts'
import { parseRule } from '../shared/rule-schema.ts'
import { ANSWER, NEXT } from '../verdict.ts'
import { addressBytes, cidrContains, cidrSchema } from './cidr.ts'
import { accessMetrics } from './metrics.ts'

export const NAME = 'access'

const schema = z.strictObject({
  type: z.literal(NAME),
  action: z.enum(['allow', 'deny']),
  ip: z.array(cidrSchema).min(1).optional(),
  methods: z.array(z.string().toUpperCase()).min(1).optional(),
  path: pathMatchSchema.optional(),
  header: z
    .strictObject({
      name: headerNameSchema.toLowerCase(),
      equals: z.string().optional(),
    })
    .optional(),
  status: z.int().min(400).max(599).default(403),
})

export const accessModule: HttpModule = {
  name: NAME,
  ruleTypes: [NAME],
  everywhere: true,
  site(rules: readonly Rule[], where: readonly string[], env) {
    const compiled = rules.map((rule, i) => {
      const r = parseRule(schema, rule, where[i])
      const path = r.path ? compilePathMatch(r.path) : undefined
      const methods = r.methods ? new Set(r.methods) : undefined
      const matches = (req: HttpRequest, addr: Uint8Array | undefined): boolean => {
        if (methods && !methods.has(req.method)) return false
        if (path && path(req.path) === undefined) return false
        if (r.header) {
          // Every value counts: a repeated header cannot hide the one a rule looks for.
          const values = headerAll(req.headers, r.header.name)
          if (
            values.length === 0 ||
            (r.header.equals !== undefined && !values.includes(r.header.equals))
          )
            return false
        }
        return !r.ip || (addr !== undefined && r.ip.some((c) => cidrContains(c, addr)))
      }
      const body = Buffer.from(`${STATUS_CODES[r.status] ?? 'Denied'}\n`)
      return {
        matches,
        deny: r.action === 'deny',
        status: r.status,
        body,
        usesIp: r.ip !== undefined,
      }
    })
    const needsAddress = compiled.some((r) => r.usesIp)
    const metrics = accessMetrics(env.registry)
    return {
      request(ctx) {
        const addr = needsAddress ? addressBytes(ctx.request.clientIp) : undefined
        for (const r of compiled) {
          if (!r.matches(ctx.request, addr)) continue
          if (!r.deny) {
            metrics.allow.inc()
            return NEXT
          }
          metrics.deny.inc()
          ctx.reply = {
            status: r.status,
            headers: ['content-type', 'text/plain; charset=utf-8'],
            body: r.body,
          }
          return ANSWER
        }
        return NEXT
      },
    }
  },
}
