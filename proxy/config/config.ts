// The proxy's configuration: YAML, validated at start. Every error names the
// file, the key and what was expected; paths in it are relative to the file.

import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { z } from 'zod'
import { CutoverError } from '../../common/cutover-error.ts'
import { issueText } from '../../common/issue-text.ts'
import { duration, size } from '../../common/units.ts'
import { rolloutSettings } from '../../rollout/settings.ts'
import { selfSignedFiles } from '../tls/self-signed.ts'
import { dns } from './dns-settings.ts'
import { percent, proxyProtocol, scopeSettings } from './scope-settings.ts'
import { httpTlsListener, tlsSettings } from './tls-settings.ts'
import { trustedProxiesSetting } from './trusted-proxies.ts'
import { hostPort, isLoopback } from './units.ts'
import { upstream } from './upstream-settings.ts'

const admin = z.strictObject({
  listen: hostPort
    .refine((hp) => isLoopback(hp.host), {
      message:
        'the admin API listens on loopback only (127.0.0.1 or ::1); put a reverse proxy with TLS in front to reach it remotely',
    })
    .prefault('127.0.0.1:9090'),
  tokenFile: z.string().optional(),
  /**
   * More tokens, one per person or tool: the name goes into the history of
   * every change made with it; an `operator` may change state, a `viewer`
   * only reads. Each file is made (random, owner-only) if it does not exist.
   */
  tokens: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, {
          message: 'expected a name of letters, digits and . _ @ - (at most 64)',
        }),
        file: z.string(),
        role: z.enum(['operator', 'viewer']),
      }),
    )
    .default([])
    .refine((ts) => new Set(ts.map((t) => t.name)).size === ts.length, {
      message: 'two tokens have the same name: history could not tell who changed what',
    })
    .refine((ts) => ts.every((t) => t.name !== 'admin'), {
      message: '"admin" is the name of the tokenFile token; give this one another',
    }),
})

const hostName = z
  .string()
  .toLowerCase()
  .regex(
    /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
    'expected a host name like "www.example.com" or "*.example.com"',
  )

const site = z.strictObject({
  host: hostName,
  aliases: z.array(hostName).default([]),
  origin: upstream.optional(),
  rules: z.array(z.looseObject({ type: z.string().min(1) })).default([]),
  ...scopeSettings,
  /** Narrower scopes: a path prefix of the site, with its own starting percentage. */
  paths: z.record(z.string().startsWith('/'), percent).default({}),
})

const http = z.strictObject({
  listen: hostPort,
  /** HTTPS (HTTP/1.1 and HTTP/2) on its own address, with the certificates in `tls`. */
  tls: httpTlsListener.extend({ proxyProtocol }).optional(),
  proxyProtocol,
  legacy: upstream,
  upstream: z
    .strictObject({
      connections: z.int().min(1).max(4096).default(128),
      connectTimeout: duration.default(2000),
      headersTimeout: duration.default(30_000),
      bodyTimeout: duration.default(30_000),
      keepAliveTimeout: duration.default(4000),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxHeaderSize: size.default(16 * 1024),
      maxBodySize: size.default(1024 ** 3),
      headersTimeout: duration.default(10_000),
      requestTimeout: duration.default(300_000),
      keepAliveTimeout: duration.default(5000),
      maxConnections: z.int().min(1).default(10_000),
    })
    .prefault({}),
  moduleBudget: duration.default(50),
  doh: z
    .union([
      z.literal(false),
      z.strictObject({ path: z.string().startsWith('/').default('/dns-query') }),
    ])
    .default({ path: '/dns-query' }),
  sites: z.array(site).default([]),
})

const shadow = z.strictObject({
  /** Shadow comparisons in flight at once; past it, shadow work is shed, never queued behind real traffic. */
  maxInFlight: z.int().min(1).max(4096).default(64),
  /** Last mismatching examples kept per scope for the admin API. */
  examples: z.int().min(1).max(1000).default(20),
  /** HTTP methods shadowed: only those without side effects. */
  methods: z.array(z.string().toUpperCase()).default(['GET', 'HEAD']),
  /** HTTP bodies larger than this are not compared. */
  maxBody: size.default(256 * 1024),
  /** TTLs may differ by this much (a cached legacy answer counts them down). */
  ttlTolerance: duration.default(5000),
  /** Event-loop utilisation (0-1) above which shadow work is shed, so it never takes time real requests need. */
  maxLoad: z.number().min(0).max(1).default(0.7),
})

/** Load shedding in each process (proxy/telemetry/overload.ts). */
const overload = z.strictObject({
  /**
   * How far behind the event loop may fall (its median lateness over 50 ms,
   * twice in a row) before new work is shed; 0: never shed, the default. Off
   * unless set, as Envoy's overload manager is: a restart's new workers share
   * the cores with the old ones, and shedding then would lose what a restart
   * promises to keep. 20ms suits most; set it where capacity is known.
   */
  maxDelay: duration.default(0),
  /** What a shed HTTP request's 503 says in Retry-After (whole seconds, at least 1). */
  retryAfter: duration.default(1000),
  /** What a shed DNS query over UDP gets: dropped (as a server out of capacity does) or SERVFAIL. Over TCP and TLS: SERVFAIL. */
  dnsUdp: z.enum(['drop', 'servfail']).default('drop'),
})

export type OverloadSettings = z.output<typeof overload>

const record = z.strictObject({
  /** Folder the recorded suites are written to (recorded-dns.yaml, recorded-http.yaml). */
  dir: z.string().min(1),
  /** Share of live requests recorded. */
  percent: percent.default(100),
  maxCases: z.int().min(1).max(1_000_000).default(10_000),
  /** Keep Authorization, Cookie and other credential headers (off: they are dropped). */
  secrets: z.boolean().default(false),
})

/** An access or query log: the share of requests that get a line, and where lines go. */
const sampledLog = z.strictObject({
  /** 0: off. */
  percent: percent.default(0),
  /** Appended to (reopened on SIGUSR1 and on reload); omitted: standard output. */
  file: z.string().min(1).optional(),
})

export type SampledLogConfig = z.output<typeof sampledLog>

export type LogConfig = z.output<typeof schema>['log']

const schema = z.strictObject({
  /** Load balancers and proxies in front: whose PROXY headers and X-Forwarded-For are believed. */
  trustedProxies: trustedProxiesSetting,
  /** Worker processes serving the listeners; `auto`: one per core. 0: serve in the one process (no supervisor). */
  workers: z.union([z.literal('auto'), z.int().min(0).max(256)]).default('auto'),
  /**
   * How the workers share the TCP listeners. `reusePort` (the default on
   * Linux): each worker has a socket of its own on the port (SO_REUSEPORT) and
   * the kernel spreads new connections over them by address (Envoy's default;
   * even, at no cost per connection). `roundRobin`: the supervisor accepts each
   * connection and deals them out in turn (node:cluster's default; even, at an
   * IPC hop per connection that costs a third of new TLS connections per
   * second). `shared`: every worker accepts from the one socket and the kernel
   * picks which (nginx's default; no cost per connection, the spread can be
   * uneven at low load). Taken at `cutover start`.
   */
  workerAccept: z
    .enum(['reusePort', 'roundRobin', 'shared'])
    .default(process.platform === 'linux' ? 'reusePort' : 'roundRobin'),
  /** How long a drain (restart, stop) waits for requests in flight before cutting them. */
  drainDeadline: duration.default(30_000),
  /**
   * How long a drain lets upgraded connections (WebSockets) run before cutting
   * them; counted from the drain's start, never shorter than drainDeadline.
   */
  upgradeDrainDeadline: duration.default(300_000),
  shadow: shadow.prefault({}),
  overload: overload.prefault({}),
  /** Sample live requests into suite files for `cutover diff`. */
  record: record.optional(),

  dns: dns.optional(),
  http: http.optional(),
  /** The certificates the HTTPS and DNS-over-TLS listeners present. */
  tls: tlsSettings.optional(),
  rollout: rolloutSettings.prefault({}),
  admin: admin.prefault({ listen: '127.0.0.1:9090' }),
  /** GET /metrics alone on an address of its own (read-only, no token), for a Prometheus beyond loopback. */
  metrics: z.strictObject({ listen: hostPort }).optional(),
  state: z.string().default('.cutover'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** One JSON line per sampled HTTP request (proxy/telemetry/access-log.ts). */
      access: sampledLog.prefault({}),
      /** One JSON line per sampled DNS query, UDP, TCP, DoT and DoH alike. */
      queries: sampledLog.prefault({}),
    })
    .prefault({}),
})

/** Each side gets the trusted list: its listeners and engine decide whom to believe, and a reload replaces it. */
const withSides = schema.transform((c) => ({
  ...c,
  dns: c.dns && { ...c.dns, trustedProxies: c.trustedProxies },
  http: c.http && { ...c.http, trustedProxies: c.trustedProxies },
}))

export type HttpConfig = NonNullable<z.output<typeof withSides>['http']>

export type ShadowConfig = z.output<typeof shadow>

export type DnsConfig = NonNullable<z.output<typeof withSides>['dns']>

export type Config = z.output<typeof withSides> & {
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
  const result = withSides.safeParse(raw ?? {}, { reportInput: true })
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
  if (!config.dns && !config.http) {
    throw new CutoverError(
      'CONFIG_INVALID',
      `${file}: nothing to serve: add a "dns" section, an "http" section, or both`,
    )
  }
  if (config.http?.doh && !config.dns) {
    throw new CutoverError(
      'CONFIG_INVALID',
      `${file}: http.doh needs a "dns" section to answer the queries (or set http.doh: false)`,
    )
  }
  config.http?.sites.forEach((s, i) => {
    if (!s.origin && ((s.percent ?? 0) > 0 || Object.values(s.paths).some((p) => p > 0))) {
      throw new CutoverError(
        'CONFIG_INVALID',
        `${file}: http.sites[${i}].origin: a site with traffic on the new path needs its origin, like "http://127.0.0.1:8082"`,
      )
    }
  })
  if ((config.http?.tls || config.dns?.tls) && !config.tls) {
    throw new CutoverError(
      'CONFIG_INVALID',
      `${file}: ${config.http?.tls ? 'http.tls' : 'dns.tls'} needs certificates: add a "tls" section, like tls: { certificates: [{ cert: site.pem, key: site.key }] }`,
    )
  }
  if (config.tls && config.tls.default >= config.tls.certificates.length) {
    throw new CutoverError(
      'CONFIG_INVALID',
      `${file}: tls.default: ${config.tls.default} is not the index of a certificate (there are ${config.tls.certificates.length})`,
    )
  }
  resolvePaths(config, dir)
  return config
}

/** Every file named in `config` made absolute, against the folder of the config file. */
function resolvePaths(config: Config, dir: string): void {
  const at = (f: string): string => resolve(dir, f)
  const atOptional = (f: string | undefined): string | undefined => f && at(f)
  for (const c of config.tls?.certificates ?? []) {
    if (c.selfSigned) Object.assign(c, selfSignedFiles(config.state, c.selfSigned))
    else {
      c.cert = at(c.cert)
      c.key = at(c.key)
      c.chain = atOptional(c.chain)
    }
  }
  const upstreams = [config.http?.legacy, ...(config.http?.sites ?? []).map((s) => s.origin)]
  for (const u of upstreams) {
    if (!u?.tls) continue
    u.tls.ca = atOptional(u.tls.ca)
    u.tls.cert = atOptional(u.tls.cert)
    u.tls.key = atOptional(u.tls.key)
  }
  for (const zone of config.dns?.zones ?? []) {
    zone.file = at(zone.file)
    zone.keys = atOptional(zone.keys)
  }
  if (config.dns && !config.dns.records.redis)
    config.dns.records.journal = resolve(
      dir,
      config.dns.records.journal ?? join(config.state, 'records.jsonl'),
    )
  if (config.dns && config.dns.records.snapshots !== false)
    config.dns.records.snapshots = resolve(
      dir,
      config.dns.records.snapshots ?? join(config.state, 'snapshots'),
    )

  if (config.record) config.record.dir = at(config.record.dir)
  config.admin.tokenFile = atOptional(config.admin.tokenFile)
  for (const t of config.admin.tokens) t.file = at(t.file)
  config.log.access.file = atOptional(config.log.access.file)
  config.log.queries.file = atOptional(config.log.queries.file)
}
