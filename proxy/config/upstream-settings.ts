// How the config names an HTTP upstream (the legacy, a site's origin): a URL
// alone, or with how it is reached over https:// (verification, SNI, client
// certificate) and whether it is spoken to in HTTP/2.

import { z } from 'zod'
import { upstreamTls } from './tls-settings.ts'

const upstreamUrl = z.string().transform((v, ctx) => {
  let url: URL | undefined
  try {
    url = new URL(v)
  } catch {
    // reported below
  }
  const scheme = url?.protocol === 'http:' || url?.protocol === 'https:'
  if (!scheme || url?.pathname !== '/' || url.search || url.username) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an upstream like "http://127.0.0.1:8081" or "https://origin.example:443" (scheme, host, port; no path), got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return url.origin
})

/** An upstream as a URL alone, or with how it is reached: TLS checks, HTTP/2. */
export const upstream = z
  .preprocess(
    (v) => (typeof v === 'string' ? { url: v } : v),
    z.strictObject({
      url: upstreamUrl,
      tls: upstreamTls.optional(),
      /** Send requests as HTTP/2 (h2 by ALPN over https://); off: HTTP/1.1, as nginx does. */
      http2: z.boolean().default(false),
    }),
  )
  .refine((u) => u.url.startsWith('https:') || u.tls === undefined, {
    message: 'tls settings apply to an https:// upstream only',
  })
  .refine((u) => u.url.startsWith('https:') || !u.http2, {
    message: 'http2 to an upstream needs https:// (cutover does not send HTTP/2 in clear text)',
  })
