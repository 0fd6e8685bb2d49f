// Client address matching against CIDR blocks, IPv4 and IPv6 (an IPv4-mapped
// IPv6 address is matched as IPv4). Blocks are parsed once at config time.

import { z } from 'zod'
import { addressInto, parseIPv4, parseIPv6 } from '../../dns/ip.ts'

export interface Cidr {
  bytes: Uint8Array
  prefix: number
}

/** Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address; undefined when it is neither. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, bits, extra] = text.split('/')
  if (extra !== undefined) return undefined
  const bytes = parseIPv4(addr) ?? parseIPv6(addr)
  if (!bytes) return undefined
  const max = bytes.length * 8
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined
  const prefix = bits === undefined ? max : Number(bits)
  return prefix <= max ? { bytes, prefix } : undefined
}

/** The client address as bytes: IPv4 as 4, IPv4-mapped IPv6 as 4, IPv6 as 16. */
export function addressBytes(ip: string): Uint8Array | undefined {
  const out = new Uint8Array(16)
  const length = addressInto(ip, out)
  return length === 0 ? undefined : out.subarray(0, length)
}

export function cidrContains(c: Cidr, addr: Uint8Array): boolean {
  if (addr.length !== c.bytes.length) return false
  const whole = c.prefix >> 3
  for (let i = 0; i < whole; i++) if (addr[i] !== c.bytes[i]) return false
  const rest = c.prefix & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (addr[whole] & mask) === (c.bytes[whole] & mask)
}

/** A config value that is an address or CIDR block, parsed; anything else is an issue naming the form. */
export const cidrSchema = z.string().transform((v, ctx) => {
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
