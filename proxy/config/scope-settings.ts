// Settings every scope (a zone or a site) shares: its starting percentage,
// stickiness and shadow share, and whether its listener takes PROXY headers.

import { z } from 'zod'
import { toBasisPoints } from '../../rollout/bucket.ts'

/** Every connection (every datagram, over UDP) starts with a PROXY protocol header from a peer in trustedProxies (default: off). */
export const proxyProtocol = z.boolean().optional()

/** A percentage in 0.01 steps, as basis points. */
export const percent = z.number().transform((v, ctx) => {
  const bp = toBasisPoints(v)
  if (bp === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a percentage from 0 to 100 in steps of 0.01, got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return bp
})

export const stickiness = z
  .string()
  .regex(/^(client-ip|client-subnet|ecs|qname|host|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$/, {
    message:
      'expected one of client-ip, client-subnet, ecs, qname (DNS), host, header:<Name> (HTTP)',
  })

/**
 * How a zone or site starts out in the rollout; the state store has the live
 * percentage. Without `percent` it starts at 0: nothing moves to the new path
 * until someone says so.
 */
export const scopeSettings = {
  percent: percent.optional(),
  stickiness: stickiness.optional(),
  salt: z.string().min(1).optional(),
  /** Share of its traffic also sent to the other path and compared (live shadow). */
  shadow: percent.default(0),
}
