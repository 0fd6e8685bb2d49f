// The `dns` section of the config: listeners, zones, the legacy resolvers,
// the packet cache and where record events come from.

import { z } from 'zod'
import { duration, size } from '../../common/units.ts'
import { typeCode } from '../../dns/constants.ts'
import { nameKey } from '../../dns/name.ts'
import { cidrSchema } from '../../modules/access/cidr.ts'
import {
  DEFAULT_MINIMAL_RESPONSES,
  MINIMAL_RESPONSES,
} from '../../modules/authoritative/minimal-responses.ts'
import { packetcacheSettings } from '../../modules/packetcache/index.ts'
import { redisUrl } from '../../rollout/settings.ts'
import { percent, proxyProtocol, scopeSettings } from './scope-settings.ts'
import { dnsTlsListener } from './tls-settings.ts'
import { hostPort, isLoopback } from './units.ts'

export const zoneName = z.string().transform((v, ctx) => {
  try {
    return nameKey(v)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message })
    return z.NEVER
  }
})

const qtypeName = z
  .string()
  .refine((t) => typeCode(t) !== undefined, { message: 'expected a record type like AAAA' })

/** BIND's setting of the same name, with its meaning (modules/authoritative/minimal-responses.ts). */
const minimalResponses = z.enum(MINIMAL_RESPONSES)

const dnsZone = z.strictObject({
  name: zoneName,
  file: z.string().min(1),
  /** This zone's answers' optional records; dns.minimalResponses by default. */
  minimalResponses: minimalResponses.optional(),
  /** A signed zone's BIND key files (K<zone>.+<alg>+<tag>.key and .private): record events are signed with them. */
  keys: z.string().min(1).optional(),
  ...scopeSettings,
  /** Narrower scopes: one query type of the zone, with its own starting percentage. */
  qtypes: z.record(qtypeName, percent).default({}),
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

export const dns = z.strictObject({
  listen: hostPort,
  /** A loopback listener where every query takes the new path: what `cutover diff` compares. */
  candidateListen: hostPort
    .refine((hp) => isLoopback(hp.host), {
      message: 'the candidate listener is loopback only (127.0.0.1 or ::1)',
    })
    .optional(),
  udpPayload: z.int().min(512).max(4096).default(1232),
  udp: z
    .strictObject({
      /**
       * The listening socket's receive buffer (SO_RCVBUF), the queue of
       * queries not read yet: past it the kernel drops them, counted in
       * cutover_dns_udp_receive_drops_total. Smaller bounds the wait of what is
       * answered under overload; larger rides out bursts. 0: not set, so
       * the system's (net.core.rmem_default) at start, and what it was before on reload.
       */
      receiveBuffer: size
        .refine((n) => n === 0 || n >= 4096, {
          message:
            'a receive buffer under 4 KiB holds a handful of queries; use 0 for the system default',
        })
        .default(0),
    })
    .prefault({}),
  /** On `listen`, UDP (version 2, as dnsdist sends it) and TCP; not on the candidate listener. */
  proxyProtocol,
  moduleBudget: duration.default(50),
  tcp: z
    .strictObject({
      idleTimeout: duration.default(10_000),
      maxConnections: z.int().min(1).default(1000),
      maxInFlight: z.int().min(1).max(1024).default(64),
    })
    .prefault({}),
  /** DNS over TLS (RFC 7858), with the certificates in `tls`. */
  tls: dnsTlsListener.extend({ proxyProtocol }).optional(),
  zones: z.array(dnsZone).default([]),
  /** Which optional records answers carry, as BIND's `minimal-responses` (its 9.18 default). */
  minimalResponses: minimalResponses.default(DEFAULT_MINIMAL_RESPONSES),
  /** Response rate limiting of the new path's UDP answers, as BIND's rate-limit; off at 0 responses a second. */
  rateLimit: z
    .strictObject({
      responsesPerSecond: z.int().min(0).max(1_000_000).default(0),
      window: z.int().min(1).max(3600).default(15),
      slip: z.int().min(0).max(10).default(2),
      ipv4PrefixLength: z.int().min(0).max(32).default(24),
      ipv6PrefixLength: z.int().min(0).max(128).default(56),
      exempt: z.array(cidrSchema).default([]),
      maxAccounts: z.int().min(1000).max(10_000_000).default(100_000),
    })
    .prefault({}),
  legacy: dnsLegacy,
  packetcache: packetcacheSettings.prefault({}),
  /** Where record events for the zones come from; a journal in the state folder by default. */
  records: z
    .strictObject({
      /** A JSON-lines file of events (default: records.jsonl in the state folder). */
      journal: z.string().min(1).optional(),
      /** A Redis stream the fleet shares, instead of the journal. */
      redis: z
        .strictObject({
          url: redisUrl,
          stream: z.string().min(1).default('cutover:records'),
        })
        .optional(),
      /** Not ready while the events not yet applied are older than this. */
      maxLag: duration.default(5000),
      /** Where zone snapshots go (default: snapshots in the state folder); false for none. */
      snapshots: z.union([z.string().min(1), z.literal(false)]).optional(),
    })
    .refine((r) => !(r.journal && r.redis), {
      message: 'records come from a journal or a Redis stream, not both',
    })
    .prefault({}),
})
