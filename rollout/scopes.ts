// Building scopes from their settings, and the set of all scopes of an instance:
// the rollout state is applied to it (live percentages), the controller and the
// admin API read it.

import { saltSeed } from './bucket.ts'
import { newStats, type Protocol, type Scope, type Stickiness } from './scope.ts'

export interface ScopeSpec {
  id: string
  protocol: Protocol
  /** Starting percentage in basis points. */
  basisPoints: number
  /** Share shadowed to the other path for comparison, in basis points (0: none). */
  shadowBasisPoints?: number
  /** `client-ip`, `client-subnet`, `ecs`, `qname`, `host` or `header:<Name>`; default per protocol. */
  stickiness: string | undefined
  salt: string | undefined
  servable: boolean
}

export interface SubnetPrefixes {
  v4: number
  v6: number
}

export function parseStickiness(text: string, subnet: SubnetPrefixes): Stickiness {
  if (text.startsWith('header:')) return { kind: 'header', name: text.slice(7).toLowerCase() }
  switch (text) {
    case 'client-subnet':
    case 'ecs':
      return { kind: text, v4: subnet.v4, v6: subnet.v6 }
    case 'client-ip':
    case 'qname':
    case 'host':
      return { kind: text }
    default:
      throw new Error(`unknown stickiness '${text}'`)
  }
}

/** DNS sticks by the client's network (the one the resolver names in ECS, else its own); HTTP by client. */
const DEFAULT_STICKINESS: Record<Protocol, string> = { dns: 'ecs', http: 'client-ip' }

/** The scope of what no zone or site names (`dns:*`, `http:*`): always the legacy's. */
export function catchAllSpec(protocol: Protocol): ScopeSpec {
  return {
    id: `${protocol}:*`,
    protocol,
    basisPoints: 0,
    stickiness: undefined,
    salt: undefined,
    servable: false,
  }
}

export function createScope(spec: ScopeSpec, subnet: SubnetPrefixes): Scope {
  return {
    id: spec.id,
    protocol: spec.protocol,
    seed: saltSeed(spec.salt ?? spec.id),
    stickiness: parseStickiness(spec.stickiness ?? DEFAULT_STICKINESS[spec.protocol], subnet),
    servable: spec.servable,
    initialBasisPoints: spec.basisPoints,
    shadowBasisPoints: spec.shadowBasisPoints ?? 0,

    basisPoints: spec.basisPoints,
    stats: newStats(),
  }
}

/** Every scope of this instance by id, including the `dns:*` and `http:*` catch-alls. */
export type ScopeSet = Map<string, Scope>

/** Scopes of a reloaded config take over the counters of the scopes of the same id in `from`. */
export function carryStats(from: ScopeSet, into: ScopeSet): void {
  for (const [id, scope] of into) {
    const was = from.get(id)
    if (was) scope.stats = was.stats
  }
}
