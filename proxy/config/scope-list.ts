// The scopes a config defines, without loading zones or setting sites up: what
// the supervisor of workers needs to hold the rollout state and the plans'
// counters. Whether the new path can serve each scope comes from the workers.

import { typeCode } from '../../dns/constants.ts'
import { dnsScopeId } from '../../rollout/dns-router.ts'
import { catchAllSpec, createScope, type ScopeSet, type ScopeSpec } from '../../rollout/scopes.ts'
import type { Config } from './config.ts'

export function scopesOf(config: Config): ScopeSet {
  const specs: ScopeSpec[] = []
  const add = (
    id: string,
    protocol: 'dns' | 'http',
    basisPoints: number,
    z: { stickiness?: string; salt?: string; shadow: number },
  ) =>
    specs.push({
      id,
      protocol,
      basisPoints,
      stickiness: z.stickiness,
      salt: z.salt,
      servable: true,
      shadowBasisPoints: z.shadow,
    })
  if (config.dns) {
    for (const z of config.dns.zones) {
      add(dnsScopeId(z.name), 'dns', z.percent, z)
      for (const [type, bp] of Object.entries(z.qtypes))
        if (typeCode(type) !== undefined)
          add(`${dnsScopeId(z.name)}/${type.toUpperCase()}`, 'dns', bp, z)
    }
    specs.push(catchAllSpec('dns'))
  }
  if (config.http) {
    for (const s of config.http.sites) {
      add(`http:${s.host}`, 'http', s.percent, s)
      for (const [prefix, bp] of Object.entries(s.paths))
        add(`http:${s.host}${prefix}`, 'http', bp, s)
    }
    specs.push(catchAllSpec('http'))
  }
  return new Map(specs.map((spec) => [spec.id, createScope(spec, config.rollout.subnet)]))
}
