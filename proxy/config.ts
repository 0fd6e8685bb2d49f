// The proxy's configuration: YAML, validated at start. Every error names the
// file, the key and what was expected; paths in it are relative to the file.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { z } from 'zod'
import { CutoverError } from '../dns/errors.ts'
import { nameKey } from '../dns/name.ts'
import { duration, hostPort, isLoopback, size } from './config-units.ts'

const zoneName = z.string().transform((v, ctx) => {
  try {
    return nameKey(v)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message })
    return z.NEVER
  }
})

const dnsZone = z.strictObject({
  name: zoneName,
  file: z.string().min(1),
  path: z.enum(['new', 'legacy']).default('new'),
})

const dnsLegacy = z.strictObject({
  servers: z.array(hostPort).min(1, 'list at least one legacy DNS server, like ["127.0.0.1:5301"]'),
  timeout: duration.default(2000),
  attempts: z.int().min(1).max(5).default(2),
  sockets: z.int().min(1).max(256).default(8),
  maxInFlight: z.int().min(1).max(60_000).default(10_000),
  tcpIdleTimeout: duration.default(10_000),
  health: z
    .strictObject({
      failures: z.int().min(1).default(3),
      interval: duration.default(1000),
      probe: zoneName.default('.'),
    })
    .prefault({}),
})

const dnsCache = z.strictObject({
  enabled: z.boolean().default(true),
  maxEntries: z.int().min(1).default(100_000),
  maxBytes: size.default(64 * 1024 * 1024),
  servfailTtl: duration.default(5000),
  maxTtl: duration.default(86_400_000),
})

const dns = z.strictObject({
  listen: hostPort,
  udpPayload: z.int().min(512).max(4096).default(1232),
  moduleBudget: duration.default(50),
  tcp: z
    .strictObject({
      idleTimeout: duration.default(10_000),
      maxConnections: z.int().min(1).default(1000),
      maxInFlight: z.int().min(1).max(1024).default(64),
    })
    .prefault({}),
  zones: z.array(dnsZone).default([]),
  legacy: dnsLegacy,
  packetcache: dnsCache.prefault({}),
})

const admin = z.strictObject({
  listen: hostPort.refine((hp) => isLoopback(hp.host), {
    message:
      'the admin API listens on loopback only (127.0.0.1 or ::1); put a reverse proxy with TLS in front to reach it remotely',
  }),
  tokenFile: z.string().optional(),
})

const schema = z.strictObject({
  dns,
  admin: admin.prefault({ listen: '127.0.0.1:9090' }),
  state: z.string().default('.cutover'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
})

export type Config = z.output<typeof schema> & {
  /** The file it was read from; relative paths in it are resolved against its folder. */
  file: string
}

/** Reads and validates a config file; throws CONFIG_INVALID naming the key and the fix. */
export function loadConfig(file: string): Config {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new CutoverError(
      'CONFIG_UNREADABLE',
      `cannot read config ${file}: ${(err as Error).message}`,
    )
  }
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? `:${err.linePos[0].line}` : ''
    throw new CutoverError(
      'CONFIG_INVALID',
      `${file}${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    )
  }
  const result = schema.safeParse(raw ?? {}, { reportInput: true })
  if (!result.success) {
    const lines = result.error.issues.map(
      (i) => `  ${i.path.join('.') || '(top level)'}: ${issueText(i)}`,
    )
    throw new CutoverError('CONFIG_INVALID', `${file}: invalid configuration:\n${lines.join('\n')}`)
  }
  const dir = dirname(resolve(file))
  const config = result.data as Config
  config.file = resolve(file)
  config.state = resolve(dir, config.state)
  for (const zone of config.dns.zones) zone.file = resolve(dir, zone.file)
  if (config.admin.tokenFile) config.admin.tokenFile = resolve(dir, config.admin.tokenFile)
  return config
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling against README's configuration reference`
  if (issue.code === 'invalid_type')
    return `expected ${issue.expected}${issue.input === undefined ? ' (missing)' : `, got ${JSON.stringify(issue.input)}`}`
  return issue.message
}
