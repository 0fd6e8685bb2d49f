// `cutover check --config FILE`: validates the config and loads every zone the
// way `start` would, then prints what would be served where.

import { Registry } from 'prom-client'
import { authoritative } from '../modules/authoritative/index.ts'
import { loadConfig } from '../proxy/config.ts'
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
  const zones = config.dns.zones.filter((z) => z.path === 'new')
  const auth = authoritative({ zones }, { log, registry: new Registry() })
  const out: string[] = [`${config.file}: valid`]
  for (const z of config.dns.zones) {
    const reason = z.path === 'new' ? auth.unsupported(z.name) : undefined
    const names = auth.zone(z.name)?.nodes.size
    out.push(
      `  ${dnsScopeId(z.name)}  ${reason ? `legacy (${reason})` : z.path}${names ? `  ${names} names` : ''}`,
    )
  }
  out.push(
    `  dns:*  legacy -> ${config.dns.legacy.servers.map((s) => `${s.host}:${s.port}`).join(', ')}`,
  )
  for (const w of warnings) out.push(`  warning: ${w}`)
  process.stdout.write(`${out.join('\n')}\n`)
  return 0
}
