// The top-level `trustedProxies` key: the address blocks of load balancers and
// proxies in front of cutover, parsed once by the one CIDR parser (the access module's).

import { z } from 'zod'
import { parseCidr } from '../../modules/access/cidr.ts'

const block = z.string().transform((v, ctx) => {
  const c = parseCidr(v)
  if (!c) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an address or CIDR block like "10.0.0.0/8" or "2001:db8::/32", got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return c
})

/** Trusted peers: their PROXY protocol headers, X-Forwarded-For, Forwarded and X-Forwarded-Proto are believed. */
export const trustedProxiesSetting = z.array(block).default([])
