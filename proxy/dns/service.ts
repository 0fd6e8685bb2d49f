// The DNS side of one proxy instance, wired from its config section: modules in
// chain order, the router, the legacy forwarder, the engine and its listeners.

import type { Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { buildQuery } from '../../dns/message.ts'
import { DnsForwarder } from '../../legacy-adapter/dns-forwarder.ts'
import { type AuthoritativeModule, authoritative } from '../../modules/authoritative/index.ts'
import type { Sequence } from '../../modules/authoritative/record-event.ts'
import { DNS_CHAIN, type DnsModuleName } from '../../modules/chain.ts'
import type { DnsModule } from '../../modules/dns-module.ts'
import type { ModuleEnv } from '../../modules/env.ts'
import { packetcache } from '../../modules/packetcache/index.ts'
import { createDnsRouter, dnsScopeId } from '../../rollout/dns-router.ts'
import type { Path } from '../../rollout/scope.ts'
import type { DnsConfig } from '../config/config.ts'
import { markServable, type ScopeList } from '../config/scope-list.ts'
import type { HostPort } from '../config/units.ts'
import type { HandedListener, HandOver } from '../net/connection-handover.ts'
import {
  type ProxiedListener,
  type ProxyProtocolIntake,
  proxyProtocolRefused,
} from '../net/proxy-protocol-intake.ts'
import type { SocketSource } from '../net/socket-source.ts'
import { trustedProxies } from '../net/trusted-proxies.ts'
import type { PreparedReload, ServiceDeps } from '../process/service-deps.ts'
import { type RecordFeed, startRecordFeed } from '../records/feed.ts'
import { openRecordLog, recordLogName } from '../records/open-record-log.ts'
import { DnsShadow } from '../shadow/dns-shadow.ts'
import type { Logger } from '../telemetry/log.ts'
import { DnsEngine } from './engine.ts'
import { ResponseRateLimiter } from './response-rate-limit.ts'
import { type DnsTcpLimits, DnsTcpListener } from './tcp-listener.ts'
import { DnsUdpListener } from './udp-listener.ts'

/** A start that replayed this many events writes snapshots, so the next start need not. */
const SNAPSHOT_AFTER_REPLAYING = 1000

export interface DnsService {
  /** The engine serving now (replaced on reload). */
  engine: DnsEngine
  authoritative: AuthoritativeModule
  port: number
  /** The candidate listener's port, when configured. */
  candidatePort: number | undefined
  /** The DNS-over-TLS listener's port, when dns.tls is set. */
  tlsPort: number | undefined
  /** New session ticket keys for the DNS-over-TLS listener. */
  setTicketKeys(keys: Buffer): void
  /** Why DNS is not ready, if it is not. */
  notReady(): string[]
  /** Record events from the journal or the Redis stream, applied to the zones. */
  records: RecordFeed
  /** Builds everything again from `dns` (zones re-read), ready to swap in; the old engine finishes what it has. */

  prepareReload(dns: DnsConfig, deps: ServiceDeps): Promise<PreparedReload>
  /**
   * Stops reading and accepting, finishes what was read and sent to the
   * legacy; resolves with what was cut. With `handOver` (a restart), idle
   * DNS-over-TCP connections go on to the new generation instead of closing.
   */
  drain(deadlineMs: number, handOver?: (listener: HandedListener) => HandOver): Promise<number>
  /** A DNS-over-TCP connection a draining worker handed over. */
  adopt(listener: HandedListener, socket: Socket, client: string, data: Buffer): void
  stop(): Promise<void>
}

/** An engine with everything it owns: modules, forwarder. */
interface DnsParts {
  engine: DnsEngine
  authoritative: AuthoritativeModule
  forwarder: DnsForwarder
  modules: DnsModule[]
}

/** The new path's and the legacy path's module chains for `dns`, in the order of modules/chain.ts. */
export function dnsChains(
  dns: DnsConfig,
  env: ModuleEnv,
): { authoritative: AuthoritativeModule; newChain: DnsModule[]; legacyChain: DnsModule[] } {
  // Every zone is loaded, whatever its percentage: a percentage changes without a reload.
  const auth = authoritative(
    {
      zones: dns.zones.map((z) => ({
        name: z.name,
        file: z.file,
        minimalResponses: z.minimalResponses ?? dns.minimalResponses,
        keys: z.keys,
      })),
      snapshots: dns.records.snapshots
        ? { dir: dns.records.snapshots, log: recordLogName(dns.records) }
        : undefined,
    },
    env,
  )
  // Each module named in modules/chain.ts, built from its config section (undefined: disabled).
  const modules: Record<DnsModuleName, () => DnsModule | undefined> = {
    authoritative: () => auth,
    packetcache: () => (dns.packetcache.enabled ? packetcache(dns.packetcache, env) : undefined),
  }
  const chain = (names: readonly DnsModuleName[]) =>
    names.map((n) => modules[n]()).filter((m) => m !== undefined)
  return {
    authoritative: auth,
    newChain: chain(DNS_CHAIN.new),
    legacyChain: chain(DNS_CHAIN.legacy),
  }
}

/**
 * Marks each zone's scopes servable unless a new-path module cannot serve the
 * zone (say, it is signed). Returns why not, by zone name.
 */
export function markZones(scopes: ScopeList, newChain: readonly DnsModule[]): Map<string, string> {
  const reasons = new Map<string, string>()
  for (const z of scopes.zones) {
    const reason = newChain.map((m) => m.unsupported?.(z.zone)).find((r) => r !== undefined)
    markServable(z, reason === undefined)
    if (reason !== undefined) reasons.set(z.zone, reason)
  }
  return reasons
}

/** Builds the modules, forwarder and engine for `dns`, and marks which zones the new path serves. */
async function buildDns(dns: DnsConfig, deps: ServiceDeps): Promise<DnsParts> {
  const { env, metrics, scopes, shadow, load } = deps
  const { authoritative: auth, newChain, legacyChain } = dnsChains(dns, env)
  for (const [zone, reason] of markZones(scopes, newChain))
    env.log.warn(
      { scope: dnsScopeId(zone), reason },
      'zone stays on the legacy path as a whole, whatever its percentage',
    )

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
    router: createDnsRouter(scopes.zones, scopes.dnsCatchAll),
    newChain,
    legacyChain,
    forwarder,
    metrics,
    log: env.log,
    udpPayload: dns.udpPayload,
    moduleBudgetMs: dns.moduleBudget,
    control: { token: deps.token, option: deps.ednsOption },
    recorder: deps.recorder,
    queryLog: deps.accessLogs.queries,
    rateLimit:
      dns.rateLimit.responsesPerSecond > 0 ? new ResponseRateLimiter(dns.rateLimit) : undefined,
    overload: deps.overload,
  })
  engine.shadow = new DnsShadow({
    forward: (ex) => forwarder.forward(ex),
    answerOnNewPath: (query, sizeLimit) => engine.answerOnNewPath(query, sizeLimit),
    mismatches: metrics.diffMismatches,
    shed: metrics.shadowShed.child({ protocol: 'dns' }),
    busy: load.busy,
    maxInFlight: shadow.maxInFlight,
    examples: shadow.examples,
    ttlToleranceS: shadow.ttlTolerance / 1000,
  })
  return { engine, authoritative: auth, forwarder, modules: [...newChain, ...legacyChain] }
}

/** Waits (bounded) until the forwarder has nothing in flight, then closes it and the modules. */
async function retire(parts: DnsParts, deadlineMs: number): Promise<number> {
  const deadline = Date.now() + deadlineMs
  while (parts.forwarder.inFlight > 0 && Date.now() < deadline) await delay(10)
  const cut = parts.forwarder.inFlight
  parts.forwarder.close()
  for (const m of parts.modules) m.close?.()
  return cut
}

/**
 * Starts the DNS side on the zones' scopes in `deps.scopes`. One process of an
 * instance writes the zones' snapshots (`snapshotWriter`).
 */
export async function startDns(
  dns: DnsConfig,
  deps: ServiceDeps,
  snapshotWriter = true,
): Promise<DnsService> {
  let parts = await buildDns(dns, deps)
  let certificates = deps.certificates
  const all: DnsListeners[] = []
  let dot: DnsTcpListener | undefined
  let records: RecordFeed | undefined
  const refused = proxyProtocolRefused(deps.env.registry)
  const intakes: ProxyProtocolIntake[] = []
  /** The PROXY protocol intake of a listener that has it on; its trust follows reloads. */
  const intake = (on: boolean | undefined, name: ProxiedListener) => {
    if (!on) return undefined
    const made = {
      trusted: trustedProxies(dns.trustedProxies),
      timeoutMs: dns.tcp.idleTimeout,
      refused: refused[name],
    }
    intakes.push(made)
    return made
  }
  try {
    // The log replayed onto the zones before any query sees them.
    records = await startRecordFeed(
      openRecordLog(dns.records),
      () => parts.authoritative,
      deps.env.log,
      deps.env.registry,
      dns.records.maxLag,
    )
    // A long replay is worth not doing again at the next start.
    if (snapshotWriter && records.replayedAtStart >= SNAPSHOT_AFTER_REPLAYING)
      snapshot(parts.authoritative, records.position(parts.authoritative), deps.env.log)
    all.push(
      await listenDns(parts.engine, dns, deps.sockets, dns.listen, undefined, {
        udp: intake(dns.proxyProtocol, 'dns-udp'),
        tcp: intake(dns.proxyProtocol, 'dns-tcp'),
      }),
    )
    // The diff harness's way to the new path, for any query, EDNS or not.
    if (dns.candidateListen)
      all.push(await listenDns(parts.engine, dns, deps.sockets, dns.candidateListen, 'new'))
    if (dns.tls) {
      if (!deps.tls) throw new Error('dns.tls without certificates')
      dot = new DnsTcpListener(
        parts.engine,
        tcpLimits(dns),
        undefined,
        {
          certificates: () => certificates!,
          minVersion: deps.tls.minVersion,
          handshakeTimeoutMs: deps.tls.handshakeTimeout,
          ticketKeys: deps.ticketKeys,
        },
        intake(dns.tls.proxyProtocol, 'dns-tls'),
      )
      await dot.listen(dns.tls.listen, deps.sockets, 'dot')
    }
  } catch (err) {
    parts.forwarder.close()
    await Promise.allSettled([
      ...all.flatMap((l) => [l.udp.close(), l.tcp.close()]),
      dot?.close(),
      records?.close(),
    ])
    throw err
  }
  const feed = records
  const [listeners, candidate] = all
  const streams = [...all.map((l) => l.tcp), ...(dot ? [dot] : [])]
  deps.metrics.openConnections.set('dns', () => streams.reduce((sum, l) => sum + l.connections, 0))

  const service: DnsService = {
    engine: parts.engine,
    authoritative: parts.authoritative,
    port: listeners.udp.port,
    candidatePort: candidate?.udp.port,
    tlsPort: dot?.port,
    records: feed,
    notReady: () => [
      ...(parts.forwarder.serversUp === 0 ? ['no legacy DNS server answers'] : []),
      ...feed.notReady(),
    ],
    async prepareReload(next, nextDeps) {
      const built = await buildDns(next, nextDeps)
      await feed.replayInto(built.authoritative)
      return {
        async commit() {
          // First, as it alone can throw (setsockopt): a failure leaves the old parts whole.
          for (const l of all) l.udp.setReceiveBuffer(next.udp.receiveBuffer)
          const old = parts
          parts = built
          for (const l of all) l.udp.engine = parts.engine
          for (const l of streams) l.engine = parts.engine
          for (const i of intakes) i.trusted = trustedProxies(next.trustedProxies)
          certificates = nextDeps.certificates
          service.engine = parts.engine
          service.authoritative = parts.authoritative
          // What the live path gave the old zones while the new ones were built.
          await feed.resync()
          await retire(old, 30_000)
        },
        discard: () => retire(built, 0).then(() => undefined),
      }
    },

    adopt(listener, socket, client, data) {
      const to = listener === 'dns' ? listeners : candidate
      if (to) to.tcp.adopt(socket, client, data)
      else socket.destroy()
    },

    async drain(deadlineMs, handOver) {
      const cut = await Promise.all([
        ...all.map((l) => l.udp.drain(deadlineMs, () => parts.forwarder.inFlight)),
        listeners.tcp.drain(deadlineMs, handOver?.('dns')),
        ...(candidate ? [candidate.tcp.drain(deadlineMs, handOver?.('candidate'))] : []),
        // DNS over TLS cannot be handed over: its TLS session is this process's.
        ...(dot ? [dot.drain(deadlineMs)] : []),
      ])
      await feed.close()
      if (snapshotWriter)
        snapshot(parts.authoritative, feed.position(parts.authoritative), deps.env.log)
      return cut.reduce((a, b) => a + b, 0) + (await retire(parts, 0))
    },
    async stop() {
      await feed.close()
      // The forwarder first: what it has in flight is answered while the listeners still can.
      parts.forwarder.close()
      await Promise.allSettled([...all.map((l) => l.udp.close()), ...streams.map((l) => l.close())])
      for (const m of parts.modules) m.close?.()
    },
    setTicketKeys(keys) {
      dot?.setTicketKeys(keys)
    },
  }
  return service
}

/** Writes the zones' snapshots; a failure is logged, never fatal (the log still has every event). */
function snapshot(auth: AuthoritativeModule, at: Sequence, log: Logger): void {
  try {
    const started = performance.now()
    const written = auth.snapshot(at)
    if (written > 0)
      log.info(
        { zones: written, sequence: at, ms: Math.round(performance.now() - started) },
        'zone snapshots written',
      )
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'zone snapshots not written')
  }
}

function tcpLimits(dns: DnsConfig): DnsTcpLimits {
  return {
    idleTimeoutMs: dns.tcp.idleTimeout,
    maxConnections: dns.tcp.maxConnections,
    maxInFlight: dns.tcp.maxInFlight,
  }
}

interface DnsListeners {
  udp: DnsUdpListener
  tcp: DnsTcpListener
}

/** UDP and TCP on one address and port (the socket source binds them as a pair, on one port when 0 asks for any). */
async function listenDns(
  engine: DnsEngine,
  dns: DnsConfig,
  sockets: SocketSource,
  listen: HostPort,
  force?: Path,
  proxyProtocol: { udp?: ProxyProtocolIntake; tcp?: ProxyProtocolIntake } = {},
): Promise<DnsListeners> {
  const udp = new DnsUdpListener(engine, listen.host.includes(':'), force, proxyProtocol.udp)
  const tcp = new DnsTcpListener(engine, tcpLimits(dns), force, undefined, proxyProtocol.tcp)
  const role = force ? 'candidate' : 'dns'
  try {
    await udp.listen(listen, sockets, role, dns.udp.receiveBuffer)
    await tcp.listen(listen, sockets, role)
  } catch (err) {
    await Promise.all([udp.close(), tcp.close()])
    throw err
  }
  return { udp, tcp }
}
