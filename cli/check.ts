// `cutover check --config FILE`: validates the config, loads every zone and sets
// up every site's rules the way `start` does (the same functions), then prints
// what is served where.

import { Registry } from 'prom-client'
import { loadConfig } from '../proxy/config/config.ts'
import { type ScopeList, scopeListOf } from '../proxy/config/scope-list.ts'
import { dnsChains, markZones } from '../proxy/dns/service.ts'
import { setUpSites } from '../proxy/http/service.ts'
import { expiryWarnings } from '../proxy/tls/certificate-metrics.ts'
import { loadCertificates } from '../proxy/tls/certificates.ts'
import type { Scope } from '../rollout/scope.ts'
import { options, requireConfig } from './args.ts'

export async function checkCommand(args: string[]): Promise<number> {
  const { values } = options(args, { config: { type: 'string', short: 'c' } })
  const config = loadConfig(requireConfig(values.config, 'check'))
  const warnings: string[] = []
  const log = {
    info() {},
    warn(obj: object, msg?: string) {
      warnings.push(`${'scope' in obj ? `${String(obj.scope)}: ` : ''}${msg ?? ''}`)
    },
    error() {},
  }
  const env = { log, registry: new Registry() }
  const scopes: ScopeList = scopeListOf(config)
  const out: string[] = [`${config.file}: valid`]
  const line = (scope: Scope, why: string | undefined, extra = '') =>
    out.push(
      `  ${scope.id}  ${scope.servable ? `${scope.initialBasisPoints / 100}% new` : `legacy (${why})`}${extra}`,
    )
  if (config.dns) {
    const chains = dnsChains(config.dns, env)
    const reasons = markZones(scopes, chains.newChain)
    for (const z of scopes.zones) {
      const names = chains.authoritative.zone(z.zone)?.nodes.size
      line(z.scope, reasons.get(z.zone), names ? `  ${names} names` : '')
      for (const narrow of z.qtypes.values()) line(narrow, reasons.get(z.zone))
    }
    for (const m of [...chains.newChain, ...chains.legacyChain]) m.close?.()
    out.push(
      `  dns:*  legacy -> ${config.dns.legacy.servers.map((s) => `${s.host}:${s.port}`).join(', ')}`,
    )
  }
  if (config.http) {
    const http = config.http
    const set = setUpSites(http, scopes, env)
    set.sites.forEach((s, i) => {
      const why = set.reasons.get(i)
      line(s.scope, why, s.site?.origin ? ` -> ${http.sites[i].origin?.url}` : '')
      for (const p of s.paths) line(p.scope, why)
    })
    await Promise.allSettled(set.pools.map((p) => p.close()))
    for (const m of set.siteModules) m.close?.()
    out.push(`  http:*  legacy -> ${http.legacy.url}`)
  }
  if (config.tls) {
    const store = loadCertificates(config.tls)
    for (const c of store.certificates)
      out.push(`  tls  ${c.names.join(', ')}  until ${new Date(c.notAfter).toISOString()}`)
    warnings.push(...expiryWarnings(store))
  }
  for (const w of warnings) out.push(`  warning: ${w}`)
  process.stdout.write(`${out.join('\n')}\n`)
  return 0
}
