// The `rollout:` section of the config: where the state lives, stickiness
// prefixes, the plan gates and the EDNS option for forced paths. Defined here,
// beside the code that reads it; the proxy's config composes it.

import { z } from 'zod'

/** Where a Redis server listens, as a `redis://` URL; a local one by default. */
export const redisUrl = z
  .string()
  .startsWith('redis://', 'expected a URL like "redis://127.0.0.1:6379"')
  .default('redis://127.0.0.1:6379')

export const rolloutSettings = z.strictObject({
  store: z.enum(['file', 'redis']).default('file'),
  redis: z
    .strictObject({
      url: redisUrl,
      prefix: z.string().min(1).default('cutover'),
    })
    .prefault({}),
  subnet: z
    .strictObject({
      v4: z.int().min(0).max(32).default(24),
      v6: z.int().min(0).max(128).default(56),
    })
    .prefault({}),
  gates: z
    .strictObject({
      minSamples: z.int().min(1).default(100),
      maxErrorRate: z.number().min(0).max(1).default(0.01),
      maxFallbackRate: z.number().min(0).max(1).default(0.05),
      maxLatencyRatio: z.number().min(1).default(1.5),
      maxMismatchRate: z.number().min(0).max(1).default(0.001),
    })
    .prefault({}),
  rollbackTo: z.enum(['last-good', 'zero']).default('last-good'),
  /** Webhooks: a JSON event POSTed to each on every transition (rollout/notify.ts). */
  notify: z
    .array(
      z
        .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
        .describe('webhook URL'),
    )
    .max(16)
    .refine((urls) => new Set(urls).size === urls.length, 'a URL is listed twice')
    .default([]),
  /** EDNS option code (local use range) for forced paths and decision traces. */
  ednsOption: z.int().min(65001).max(65534).default(65430),
})

export type RolloutSettings = z.output<typeof rolloutSettings>
