// The DNS side of one proxy instance, wired from its config section: modules in
// chain order, the router, the legacy forwarder, the engine and its listeners.

import { buildQuery } from '../dns/message.ts'
import { DnsForwarder } from '../legacy-adapter/dns-forwarder.ts'
import { type AuthoritativeModule, authoritative } from '../modules/authoritative/index.ts'
import { DNS_CHAIN, type DnsModuleName } from '../modules/chain.ts'
import type { DnsModule } from '../modules/dns-module.ts'
import type { ModuleEnv } from '../modules/env.ts'
import { packetcache } from '../modules/packetcache/index.ts'
import { createDnsRouter, type DnsScopeConfig, dnsScopeId } from '../rollout/dns-router.ts'
import type { DnsConfig } from './config.ts'
import { DnsEngine } from './dns-engine.ts'
import { DnsTcpListener } from './dns-tcp.ts'
import { DnsUdpListener } from './dns-udp.ts'
import type { Logger } from './log.ts'
import type { Metrics } from './metrics.ts'

export interface DnsService {
  engine: DnsEngine
  authoritative: AuthoritativeModule
  port: number
  /** Why DNS is not ready, if it is not. */
  notReady(): string[]
  stop(): Promise<void>
}

export async function startDns(
  dns: DnsConfig,
  env: ModuleEnv & { log: Logger },
  metrics: Metrics,
): Promise<DnsService> {
  const auth = authoritative(
    {
      zones: dns.zones.filter((z) => z.path === 'new').map((z) => ({ name: z.name, file: z.file })),
    },
    env,
  )
  const cache = dns.packetcache
  // Each module named in modules/chain.ts, built from its config section (undefined: disabled).
  const modules: Record<DnsModuleName, () => DnsModule | undefined> = {
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
    names.map((n) => modules[n]()).filter((m) => m !== undefined)
  const newChain = chain(DNS_CHAIN.new)
  const legacyChain = chain(DNS_CHAIN.legacy)

  const scopes: DnsScopeConfig[] = dns.zones.map((z) => {
    const reason =
      z.path === 'new'
        ? newChain.map((m) => m.unsupported?.(z.name)).find((r) => r !== undefined)
        : undefined
    if (reason)
      env.log.warn(
        { scope: dnsScopeId(z.name), reason },
        'zone routed to the legacy path as a whole',
      )
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
    log: env.log,
    udpPayload: dns.udpPayload,
    moduleBudgetMs: dns.moduleBudget,
  })
  let listeners: DnsListeners
  try {
    listeners = await listenDns(engine, dns)
  } catch (err) {
    forwarder.close()
    throw err
  }
  return {
    engine,
    authoritative: auth,
    port: listeners.udp.port,
    notReady: () => (forwarder.serversUp === 0 ? ['no legacy DNS server answers'] : []),
    async stop() {
      // The forwarder first: what it has in flight is answered while the listeners still can.
      forwarder.close()
      await Promise.allSettled([listeners.udp.close(), listeners.tcp.close()])

      for (const m of [...newChain, ...legacyChain]) m.close?.()
    },
  }
}

interface DnsListeners {
  udp: DnsUdpListener
  tcp: DnsTcpListener
}

/**
 * UDP and TCP on one address and port. Port 0 means "any free one": UDP picks it,
 * TCP takes the same, and if that TCP port is taken both try again.
 */
async function listenDns(engine: DnsEngine, dns: DnsConfig): Promise<DnsListeners> {
  const { listen, tcp: limits } = dns
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
