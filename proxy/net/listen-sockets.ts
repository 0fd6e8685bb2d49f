// The listening sockets of a proxy, held by the process that owns them (the
// supervisor, or the one process with `workers: 0`) and never closed while it
// runs: bound here, listened on by whoever serves them. Because they are held
// apart from the servers, a worker that dies, a generation that leaves or a
// supervisor that hands them to its successor (`cutover upgrade`) closes
// nothing a client is waiting on. DNS roles bind UDP and TCP on one port.
//
// With `workerAccept: reusePort` a TCP role has a socket per worker slot, all
// bound to one port with SO_REUSEPORT, so the kernel spreads new connections
// over them by their addresses, as Envoy's and nginx's `reuseport` do. The
// first is bound only after a plain bind of the port succeeded, so a port
// another process holds is refused, SO_REUSEPORT or not.
//
// Node has no public way to bind without listening (a listening server in the
// supervisor would accept connections itself): node:cluster's own primary uses
// net's _createServerHandle for TCP and the UDP wrap for datagrams, and so do we.

import * as net from 'node:net'
import { constants } from 'node:os'
import { getSystemErrorName } from 'node:util'
import type { HostPort } from '../config/units.ts'

/** A libuv handle as Node's internals give it: a descriptor, bound; whoever listens on it serves it. */
export interface RawHandle {
  readonly fd: number
  getsockname(out: { address?: string; port?: number }): number
  close(): void
}

export type SocketKind = 'tcp' | 'udp'

/** What a listening socket is for. DNS roles are a pair: UDP and TCP on one port. */
export type ListenRole = 'dns' | 'candidate' | 'dot' | 'http' | 'https' | 'admin' | 'metrics'

const PAIRED: ReadonlySet<ListenRole> = new Set(['dns', 'candidate'])

export interface ListenSocket {
  kind: SocketKind
  role: ListenRole
  /** The address asked for (port 0: any free one). */
  at: HostPort
  /** The port it is bound to. */
  port: number
  handle: RawHandle
  /** Which of the role's per-worker sockets it is (`workerAccept: reusePort`); absent: the first, 0. */
  slot?: number
}

interface UdpWrap extends RawHandle {
  bind(host: string, port: number, flags: number): number
  bind6(host: string, port: number, flags: number): number
  open(fd: number): number
}

const createServerHandle = (
  net as unknown as {
    _createServerHandle(
      host: string | null,
      port: number,
      family: number,
      fd?: number,
      flags?: number,
    ): unknown
  }
)._createServerHandle

const { UV_TCP_REUSEPORT } = (
  process as unknown as {
    binding(name: 'tcp_wrap'): { constants: { UV_TCP_REUSEPORT: number } }
  }
).binding('tcp_wrap').constants

const { UDP } = (
  process as unknown as { binding(name: 'udp_wrap'): { UDP: new () => UdpWrap } }
).binding('udp_wrap')

/** Why a bind failed, for people: the call, the address, what the system said. */
function bindError(kind: SocketKind, role: ListenRole, at: HostPort, errno: number): Error {
  const name = getSystemErrorName(errno)
  const address = `${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}`
  const hint =
    name === 'EADDRINUSE'
      ? ': another process listens there (another cutover, or the legacy itself?)'
      : name === 'EACCES'
        ? ': ports below 1024 need root or CAP_NET_BIND_SERVICE'
        : name === 'EADDRNOTAVAIL'
          ? ': no interface of this machine has that address'
          : ''
  return Object.assign(
    new Error(`cannot listen on ${address} (${role}, ${kind}): ${name}${hint}`),
    {
      code: name,
    },
  )
}

/** EADDRINUSE as libuv reports it (negated). */
const UV_EADDRINUSE = -constants.errno.EADDRINUSE

function bindTcp(at: HostPort, reusePort = false): RawHandle | number {
  const family = net.isIPv6(at.host) ? 6 : 4
  const flags = reusePort ? UV_TCP_REUSEPORT : 0
  const bound = createServerHandle(at.host, at.port, family, undefined, flags) as RawHandle | number
  if (typeof bound === 'number' || at.port === 0 || portOf(bound) === at.port) return bound
  // libuv keeps a bind's EADDRINUSE for the listen to report; unbound, the socket has no port.
  bound.close()
  return UV_EADDRINUSE
}

function bindUdp(at: HostPort): RawHandle | number {
  const handle = new UDP()
  const err = net.isIPv6(at.host)
    ? handle.bind6(at.host, at.port, 0)
    : handle.bind(at.host, at.port, 0)
  if (err === 0) return handle
  handle.close()
  return err
}

function portOf(handle: RawHandle): number {
  const out: { port?: number } = {}
  handle.getsockname(out)
  return out.port ?? 0
}

export interface ListenSockets {
  /**
   * The socket of `kind` for `role` at `at`, bound now if it is not yet (a DNS
   * role binds both kinds, on one port). Throws with the reason and a hint.
   */
  open(kind: SocketKind, role: ListenRole, at: HostPort): ListenSocket
  /**
   * The TCP socket of worker slot `slot` for `role` at `at`: slot 0 is open's;
   * another is bound now beside it with SO_REUSEPORT. Throws if the first was
   * bound without it (by systemd, or by a supervisor in another mode).
   */
  slot(role: ListenRole, at: HostPort, slot: number): ListenSocket
  /** Takes a socket bound elsewhere (a predecessor's, or systemd's) for its role and address. */
  adopt(socket: ListenSocket): void
  all(): ListenSocket[]
  /** Closes one socket and forgets it: a later open binds its address again. */
  remove(socket: ListenSocket): void
  /** Closes every socket: only when the process is done with them for good. */
  close(): void
}

const keyOf = (kind: SocketKind, role: ListenRole, at: HostPort, slot = 0) =>
  `${kind} ${role} ${at.host} ${at.port} ${slot}`

/** `reusePort`: the roles whose TCP sockets are bound with SO_REUSEPORT, to be split per worker slot. */
export function listenSockets(reusePort: ReadonlySet<ListenRole> = new Set()): ListenSockets {
  const sockets = new Map<string, ListenSocket>()
  const add = (s: ListenSocket) => {
    sockets.set(keyOf(s.kind, s.role, s.at, s.slot), s)
    return s
  }

  /** A plain bind first: it fails on a port any other socket holds, which SO_REUSEPORT's would not. */
  const bindSplittable = (at: HostPort): RawHandle | number => {
    const probe = bindTcp(at)
    if (typeof probe === 'number') return probe
    const port = portOf(probe)
    probe.close()
    return bindTcp({ host: at.host, port }, true)
  }

  const bindOne = (kind: SocketKind, role: ListenRole, at: HostPort): ListenSocket => {
    const bound =
      kind === 'udp' ? bindUdp(at) : reusePort.has(role) ? bindSplittable(at) : bindTcp(at)
    if (typeof bound === 'number') throw bindError(kind, role, at, bound)
    return { kind, role, at, port: portOf(bound), handle: bound }
  }

  /** UDP first; TCP on its port. Port 0: if that TCP port is taken, both try another. */
  const bindPair = (role: ListenRole, at: HostPort): void => {
    for (let attempt = 1; ; attempt++) {
      const udp = bindOne('udp', role, at)
      try {
        const tcp = bindOne('tcp', role, { host: at.host, port: udp.port })
        add(udp)
        add({ ...tcp, at })
        return
      } catch (err) {
        udp.handle.close()
        if (at.port !== 0 || attempt === 10) throw err
      }
    }
  }

  return {
    open(kind, role, at) {
      const found = sockets.get(keyOf(kind, role, at))
      if (found) return found
      // The other half of a pair adopted alone (systemd passed only one): this one joins its port.
      const other = sockets.get(keyOf(kind === 'tcp' ? 'udp' : 'tcp', role, at))
      if (other) add({ ...bindOne(kind, role, { host: at.host, port: other.port }), at })
      else if (PAIRED.has(role)) bindPair(role, at)
      else add(bindOne(kind, role, at))
      return sockets.get(keyOf(kind, role, at))!
    },
    slot(role, at, slot) {
      const first = this.open('tcp', role, at)
      const found = sockets.get(keyOf('tcp', role, at, slot))
      if (slot === 0 || found) return found ?? first
      const bound = bindTcp({ host: at.host, port: first.port }, true)
      if (typeof bound === 'number') throw bindError('tcp', role, at, bound)
      return add({ kind: 'tcp', role, at, port: first.port, handle: bound, slot })
    },
    adopt: (s) => void add(s),
    all: () => [...sockets.values()],
    remove(s) {
      s.handle.close()
      sockets.delete(keyOf(s.kind, s.role, s.at, s.slot))
    },
    close() {
      for (const s of sockets.values()) s.handle.close()
      sockets.clear()
    },
  }
}

/** A bound socket's own address, as given by a descriptor another process passed (systemd). */
export function socketAt(handle: RawHandle): HostPort {
  const out: { address?: string; port?: number } = {}
  handle.getsockname(out)
  return { host: out.address ?? '', port: out.port ?? 0 }
}

/** Opens descriptor `fd` as a TCP or UDP handle, whichever it is; undefined for anything else. */
export function handleOfFd(fd: number): { kind: SocketKind; handle: RawHandle } | undefined {
  const tcp = createServerHandle(null, 0, 0, fd) as RawHandle | number
  if (typeof tcp !== 'number') return { kind: 'tcp', handle: tcp }
  const udp = new UDP()
  if (udp.open(fd) === 0 && portOf(udp) > 0) return { kind: 'udp', handle: udp }
  udp.close()
  return undefined
}
