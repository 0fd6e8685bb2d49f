// The order modules run in: one list per protocol and path. A module never
// cares what runs before it. `new`: the new path, for scopes routed to it;
// `legacy`: in front of the legacy forwarder (the legacy path and fallbacks).

export const DNS_CHAIN = {
  new: ['authoritative'],
  legacy: ['packetcache'],
} as const

export type DnsModuleName = (typeof DNS_CHAIN)[keyof typeof DNS_CHAIN][number]

/** HTTP new-path modules, by the rule types they serve; then the origin. */
export const HTTP_CHAIN = ['access', 'ratelimit', 'redirect', 'static', 'headers', 'cache'] as const

export type HttpModuleName = (typeof HTTP_CHAIN)[number]
