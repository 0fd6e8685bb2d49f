// The top-level `trustedProxies` key: the address blocks of load balancers and
// proxies in front of cutover, parsed once by the one CIDR parser (the access module's).

import { z } from 'zod'
import { cidrSchema } from '../../modules/access/cidr.ts'

/** Trusted peers: their PROXY protocol headers, X-Forwarded-For, Forwarded and X-Forwarded-Proto are believed. */
export const trustedProxiesSetting = z.array(cidrSchema).default([])
