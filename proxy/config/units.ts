// Listen addresses as people write them ("127.0.0.1:5300", "[::1]:53"). Each
// error says what was expected and shows an example.

import { isIP } from 'node:net'
import { z } from 'zod'

export interface HostPort {
  host: string
  port: number
}

/** Parses "host:port" with an IP literal host (IPv6 in brackets); undefined if it is not one. */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text)
  if (!m || !isIP(m[1])) return undefined
  const port = Number(m[2])
  return port <= 65535 ? { host: m[1], port } : undefined
}

export const hostPort = z.string().transform((v, ctx) => {
  const hp = parseHostPort(v)
  if (!hp) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an IP address and port like "127.0.0.1:5300" or "[::1]:5300", got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return hp
})

export function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host.toLowerCase().startsWith('::ffff:127.')
}
