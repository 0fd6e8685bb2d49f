// Starts one proxy instance from a config: modules, legacy forwarder, DNS
// listeners and the admin API; and stops it. The one place that wires parts.

import { Registry } from 'prom-client'
import { CutoverError } from '../dns/errors.ts'
import { buildQuery } from '../dns/message.ts'
import { DnsForwarder } from '../legacy-adapter/dns-forwarder.ts'
import { type AuthoritativeModule, authoritative } from '../modules/authoritative/index.ts'
import { DNS_CHAIN, type DnsModuleName } from '../modules/chain.ts'
import type { DnsModule } from '../modules/dns-module.ts'
import { packetcache } from '../modules/packetcache/index.ts'
import { createDnsRouter, type DnsScopeConfig, dnsScopeId } from '../rollout/dns-router.ts'
import { createAdmin } from './admin.ts'
import type { Config } from './config.ts'
import { DnsEngine } from './dns-engine.ts'
import { DnsTcpListener } from './dns-tcp.ts'
import { DnsUdpListener } from './dns-udp.ts'
import type { Logger } from './log.ts'
import { createMetrics } from './metrics.ts'

export interface RunningProxy {
  dnsPort: number
  adminPort: number
  registry: Registry
  authoritative: AuthoritativeModule
  stop(): Promise<void>
}

interface DnsListeners {
  udp: DnsUdpListener
  tcp: DnsTcpListener
}

/**
 * UDP and TCP on one address and port. Port 0 means "any free one": UDP picks it,
 * TCP takes the same, and if that TCP port is taken both try again.
 */
async function listenDns(engine: DnsEngine, config: Config): Promise<DnsListeners> {
  const { listen, tcp: limits } = config.dns
  for (let attempt = 1; ; attempt++) {
    const udp = new DnsUdpListener(engine, listen.host.includes(':'))
    const tcp = new DnsTcpListener(engine, {
      idleTimeoutMs: limits.idleTimeout,
      maxConnections: limits.maxConnections,
      maxInFlight: limits.maxInFlight,
    })
    await udp.listen(listen)
    try {
      await tcp.listen({ host: listen.host, port: udp.port })
      return { udp, tcp }
    } catch (err) {
      await udp.close()
      if (listen.port !== 0 || attempt === 10) throw err
    }
  }
}

export async function startProxy(config: Config, log: Logger): Promise<RunningProxy> {
  const registry = new Registry()
  const metrics = createMetrics(registry)
  const env = { log, registry }
  const dns = config.dns

  const newZones = dns.zones.filter((z) => z.path === 'new')
  const auth = authoritative({ zones: newZones.map((z) => ({ name: z.name, file: z.file })) }, env)
  const { packetcache: cache } = dns
  // Each module named in modules/chain.ts, built from its config section (undefined: disabled).
  const dnsModules: Record<DnsModuleName, () => DnsModule | undefined> = {
    authoritative: () => auth,
    packetcache: () =>
      cache.enabled
        ? packetcache(
            {
              maxEntries: cache.maxEntries,
              maxBytes: cache.maxBytes,
              servfailTtlMs: cache.servfailTtl,
              maxTtlMs: cache.maxTtl,
            },
            env,
          )
        : undefined,
  }
  const chain = (names: readonly DnsModuleName[]) =>
    names.map((n) => dnsModules[n]()).filter((m) => m !== undefined)
  const newChain = chain(DNS_CHAIN.new)
  const legacyChain = chain(DNS_CHAIN.legacy)

  const scopes: DnsScopeConfig[] = dns.zones.map((z) => {
    const reason =
      z.path === 'new'
        ? newChain.map((m) => m.unsupported?.(z.name)).find((r) => r !== undefined)
        : undefined
    if (reason)
      log.warn({ scope: dnsScopeId(z.name), reason }, 'zone routed to the legacy path as a whole')
    return { zone: z.name, path: reason ? 'legacy' : z.path }
  })
  for (const s of scopes)
    metrics.rolloutPercent.set({ scope: dnsScopeId(s.zone) }, s.path === 'new' ? 100 : 0)

  const forwarder = new DnsForwarder({
    servers: dns.legacy.servers,
    timeoutMs: dns.legacy.timeout,
    attempts: dns.legacy.attempts,
    sockets: dns.legacy.sockets,
    maxInFlight: dns.legacy.maxInFlight,
    failuresBeforeDown: dns.legacy.health.failures,
    healthIntervalMs: dns.legacy.health.interval,
    tcpIdleMs: dns.legacy.tcpIdleTimeout,
    probe: buildQuery({ name: dns.legacy.health.probe, type: 6, rd: false }),
  })
  await forwarder.start()

  const engine = new DnsEngine({
    router: createDnsRouter(scopes),
    newChain,
    legacyChain,
    forwarder,
    metrics,
    log,
    udpPayload: dns.udpPayload,
    moduleBudgetMs: dns.moduleBudget,
  })
  const admin = createAdmin({
    registry,
    notReady: () => (forwarder.serversUp === 0 ? ['no legacy DNS server answers'] : []),
  })
  let listeners: DnsListeners | undefined
  try {
    listeners = await listenDns(engine, config)
    await admin.listen({ host: config.admin.listen.host, port: config.admin.listen.port })
  } catch (err) {
    forwarder.close()
    await Promise.allSettled([listeners?.udp.close(), listeners?.tcp.close(), admin.close()])
    throw new CutoverError('LISTEN_FAILED', `cannot listen: ${(err as Error).message}`, {
      cause: err,
    })
  }
  const { udp, tcp } = listeners
  const adminAddress = admin.server.address()
  log.info({ dns: `${dns.listen.host}:${udp.port}`, admin: adminAddress }, 'cutover is serving')

  return {
    dnsPort: udp.port,
    adminPort: typeof adminAddress === 'object' && adminAddress ? adminAddress.port : 0,
    registry,
    authoritative: auth,
    async stop() {
      await Promise.allSettled([udp.close(), tcp.close(), admin.close()])
      forwarder.close()
      for (const m of [...newChain, ...legacyChain]) m.close?.()
    },
  }
}
