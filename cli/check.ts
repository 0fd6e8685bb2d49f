// `cutover check --config FILE`: validates the config, loads every zone and sets
// up every site's rules the way `start` would, then prints what is served where.

import { Registry } from 'prom-client'
import { authoritative } from '../modules/authoritative/index.ts'
import { modulesForRules, unsupportedRuleTypes } from '../modules/http-registry.ts'
import { loadConfig } from '../proxy/config/config.ts'
import { dnsScopeId } from '../rollout/dns-router.ts'
import { options, requireConfig } from './args.ts'

export async function checkCommand(args: string[]): Promise<number> {
  const { values } = options(args, { config: { type: 'string', short: 'c' } })
  const config = loadConfig(requireConfig(values.config, 'check'))
  const warnings: string[] = []
  const log = {
    info() {},
    warn(obj: object, msg?: string) {
      warnings.push(`${'zone' in obj ? `${String(obj.zone)}: ` : ''}${msg ?? ''}`)
    },
    error() {},
  }
  const env = { log, registry: new Registry() }
  const out: string[] = [`${config.file}: valid`]
  if (config.dns) {
    const auth = authoritative({ zones: config.dns.zones }, env)
    for (const z of config.dns.zones) {
      const reason = auth.unsupported(z.name)
      const names = auth.zone(z.name)?.nodes.size
      out.push(
        `  ${dnsScopeId(z.name)}  ${reason ? `legacy (${reason})` : `${z.percent / 100}% new`}${names ? `  ${names} names` : ''}`,
      )
      for (const [type, bp] of Object.entries(z.qtypes))
        out.push(`  ${dnsScopeId(z.name)}/${type.toUpperCase()}  ${bp / 100}% new`)
    }
    out.push(
      `  dns:*  legacy -> ${config.dns.legacy.servers.map((s) => `${s.host}:${s.port}`).join(', ')}`,
    )
  }
  if (config.http) {
    config.http.sites.forEach((s, i) => {
      const missing = unsupportedRuleTypes(s.rules)
      for (const { module, rules, where } of modulesForRules(s.rules, `http.sites[${i}]`))
        module.site(rules, where, env)
      const where =
        missing.length > 0
          ? `legacy (unsupported rule types: ${missing.join(', ')})`
          : `${s.percent / 100}% new -> ${s.origin ?? '(no origin)'}`
      out.push(`  http:${s.host}  ${where}`)
      for (const [prefix, bp] of Object.entries(s.paths))
        out.push(`  http:${s.host}${prefix}  ${bp / 100}% new`)
    })
    out.push(`  http:*  legacy -> ${config.http.legacy.url}`)
  }
  for (const w of warnings) out.push(`  warning: ${w}`)
  process.stdout.write(`${out.join('\n')}\n`)
  return 0
}
