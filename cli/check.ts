// `cutover check --config FILE`: validates the config, loads every zone and sets
// up every site's rules the way `start` does (the same functions), then prints
// what is served where.

import { Registry } from 'prom-client'
import { type Config, loadConfig } from '../proxy/config/config.ts'
import { type ScopeList, scopeListOf } from '../proxy/config/scope-list.ts'
import { dnsChains, markZones } from '../proxy/dns/service.ts'
import { setUpSites } from '../proxy/http/service.ts'
import { expiryWarnings } from '../proxy/tls/certificate-metrics.ts'
import { loadCertificates } from '../proxy/tls/certificates.ts'
import type { Scope } from '../rollout/scope.ts'
import { adminUrl, options, requireConfig } from './args.ts'
import { driftLine, driftOf, type LiveScope, liveFromStateFile } from './rollout-drift.ts'

/** Where the live rollout state differs from the config: as the running proxy has it, else its state file. */
async function driftLines(config: Config): Promise<string[]> {
  let live: LiveScope[] | undefined
  let from = 'the running proxy'
  try {
    const res = await fetch(`${adminUrl(config)}/rollout`, { signal: AbortSignal.timeout(1000) })
    if (res.ok) live = ((await res.json()) as { scopes: LiveScope[] }).scopes
  } catch {
    // not running: its state file, if any, says what it had
  }
  if (!live) {
    live = liveFromStateFile(config)
    from = 'the state file'
  }
  if (!live)
    return [
      config.rollout.store === 'redis'
        ? `  live state: not read (it is in Redis, and no proxy answers at ${adminUrl(config)})`
        : '  live state: none yet (the config seeds it at the first start)',
    ]
  const drifts = driftOf(config, live)
  if (drifts.length === 0) return [`  live state (${from}) agrees with the config`]
  return [
    ...drifts.map((d) => `  differs: ${driftLine(d)}`),
    `  (live state from ${from}; 'cutover rollout apply' moves it to the config)`,
  ]
}

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
  /** `unset`: the config gives no percent, so it starts at 0 (said, lest it look like a mistake). */
  const line = (scope: Scope, why: string | undefined, extra = '', unset = false) =>
    out.push(
      `  ${scope.id}  ${scope.servable ? `${scope.initialBasisPoints / 100}% new${unset ? ' (no percent set: starts at 0; the live state may say otherwise)' : ''}` : `legacy (${why})`}${extra}`,
    )
  if (config.dns) {
    const chains = dnsChains(config.dns, env)
    const reasons = markZones(scopes, chains.newChain)
    for (const [i, z] of scopes.zones.entries()) {
      const names = chains.authoritative.zone(z.zone)?.nodes.size
      const unset = config.dns.zones[i].percent === undefined
      line(z.scope, reasons.get(z.zone), names ? `  ${names} names` : '', unset)
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
      const unset = http.sites[i].percent === undefined
      line(s.scope, why, s.site?.origin ? ` -> ${http.sites[i].origin?.url}` : '', unset)
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
  out.push(...(await driftLines(config)))
  for (const w of warnings) out.push(`  warning: ${w}`)
  process.stdout.write(`${out.join('\n')}\n`)
  return 0
}
