// The load balancers and proxies whose word on the client is believed (the
// top-level `trustedProxies`): their PROXY protocol headers, X-Forwarded-For,
// Forwarded and X-Forwarded-Proto. Everyone else's are not.

import { addressInto } from '../../dns/ip.ts'
import { type Cidr, cidrContains } from '../../modules/access/cidr.ts'

export interface TrustedProxies {
  /** True when `address` (text, as a socket or a header gives it) is in a trusted block. */
  has(address: string): boolean
  /** No block at all: nothing is believed, and nothing need be looked at. */
  readonly none: boolean
}

/** The trust of `blocks` (parsed once, at config time). */
export function trustedProxies(blocks: readonly Cidr[]): TrustedProxies {
  const bytes = new Uint8Array(16)
  const v4 = bytes.subarray(0, 4)
  return {
    none: blocks.length === 0,
    has(address) {
      if (blocks.length === 0) return false
      const length = addressInto(address, bytes)
      if (length === 0) return false
      const addr = length === 4 ? v4 : bytes
      for (const block of blocks) if (cidrContains(block, addr)) return true
      return false
    },
  }
}

/** Trusting no one: what a config without `trustedProxies` means. */
export const NOBODY: TrustedProxies = trustedProxies([])
