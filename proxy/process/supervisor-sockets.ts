// The supervisor's side of the workers' sockets: it binds each one when a
// worker first asks (listen-sockets.ts keeps it open for the supervisor's
// life) and answers every ask for it as `workerAccept` says:
// - `reusePort`: each worker slot has a TCP socket of its own on the port
//   (SO_REUSEPORT), and the kernel spreads new connections over them, with no
//   hop through this process (Envoy's default, nginx's `reuseport`);
// - `shared`: every worker gets the one socket and accepts from it beside the others;
// - `roundRobin`: the supervisor accepts, the connection paused unread, and
//   deals it to the workers in turn, as node:cluster's round robin does.
// A listening socket no live worker serves (its worker died and the next is
// not up yet, a restart to fewer workers, slots a predecessor split) would
// queue the connections the kernel gives it unanswered: it is lent to a ready
// worker until its own worker asks for it again. One whose listener the
// serving generation's config no longer has is closed, so a client is refused
// at once instead of waiting in a backlog no one accepts from.

import { createServer, type Server, type Socket } from 'node:net'
import type { Config } from '../config/config.ts'
import type { HostPort } from '../config/units.ts'
import {
  type ListenRole,
  type ListenSocket,
  type ListenSockets,
  listenSockets,
} from '../net/listen-sockets.ts'
import type { Logger } from '../telemetry/log.ts'
import type { WorkerState } from './generations.ts'
import type {
  DealtConnection,
  LentSocket,
  ListenAnswer,
  ListenAsk,
  TakenBack,
} from './worker-sockets.ts'

/** Connections accepted while no worker takes them (all of them died): held for the next one, up to this many. */
const MAX_HELD = 1024

/** The roles workers serve; the supervisor serves admin and metrics itself. */
const WORKER_ROLES: ReadonlySet<ListenRole> = new Set(['dns', 'candidate', 'dot', 'http', 'https'])

/** The supervisor's socket table: with `reusePort`, the workers' TCP sockets are bound to be split per slot. */
export function socketTable(accept: Config['workerAccept']): ListenSockets {
  return listenSockets(accept === 'reusePort' ? WORKER_ROLES : new Set())
}

interface Dealer {
  server: Server | undefined
  takers: WorkerState[]
  next: number
  held: Socket[]
}

export interface SupervisorSockets {
  readonly table: ListenSockets
  /** A worker was forked: it will ask for its sockets. */
  join(w: WorkerState): void
  /** Answers a worker's ask for a socket. */
  answer(w: WorkerState, m: ListenAsk): void
  /** A worker became ready: connections held for want of one go out now, and sockets no one serves. */
  ready(): void
  /** `w` is dealt no more connections and lent no sockets (it drains, or is gone). */
  leave(w: WorkerState): void
  /**
   * Closes the workers' sockets generation `current` did not ask for (a restart
   * or an upgrade took their listener out of the config, or moved it). Call it
   * once all of `current` is ready: a worker of an older one keeps serving its
   * own copy of the socket until it drains.
   */
  prune(current: number): void
  /** Accepts and lends no more (a successor serves from now on); the sockets stay open. */
  stopDealing(): void
  /** Closes every socket, for good. */
  close(): void
}

const roleAt = (role: ListenRole, at: HostPort) => `${role} ${at.host} ${at.port}`

export function supervisorSockets(
  table: ListenSockets,
  accept: Config['workerAccept'],
  log: Logger,
): SupervisorSockets {
  const dealers = new Map<ListenSocket, Dealer>()
  /** Workers forked and not left. */
  const workers = new Set<WorkerState>()
  /** The workers serving each TCP socket given out, as their own or lent. */
  const servedBy = new Map<ListenSocket, Set<WorkerState>>()
  const lentTo = new Map<ListenSocket, WorkerState>()
  /**
   * The roles and addresses each generation's workers asked for: a TCP socket
   * is lent only if one did, and kept by a prune only if the serving one did.
   */
  const askedIn = new Map<number, Set<string>>()
  /** Sockets bound without SO_REUSEPORT (by systemd, or a predecessor in another mode): dealt instead. */
  const unsplittable = new Set<ListenSocket>()
  let serving = true

  // Never one still starting: if its generation fails to start, it is killed with what it holds.
  const takes = (w: WorkerState) => w.state === 'ready' && w.worker.isConnected()

  const deal = (d: Dealer, role: DealtConnection['role'], socket: Socket) => {
    const takers = d.takers.filter(takes)
    if (takers.length === 0) {
      if (d.held.length < MAX_HELD) d.held.push(socket)
      else socket.destroy()
      return
    }
    const to = takers[d.next++ % takers.length]
    const m: DealtConnection = { type: 'dealt', role }
    to.worker.send(m, socket, {}, (err) => {
      if (err) socket.destroy()
    })
  }

  const dealerOf = (s: ListenSocket): Dealer => {
    const found = dealers.get(s)
    if (found) return found
    const d: Dealer = { server: undefined, takers: [], next: 0, held: [] }
    // Paused: not one byte is read here; the worker that gets it reads it all.
    d.server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) =>
      deal(d, s.role, socket),
    )
    // An accept that failed (out of descriptors) leaves the connection queued for the next one.
    d.server.on('error', () => {})
    d.server.listen(s.handle as never)
    dealers.set(s, d)
    return d
  }

  // Its listening descriptor closes at once; close's callback would wait for the
  // connections dealt out, which Node never counts as closed here.
  const closeDealer = (d: Dealer) => {
    for (const socket of d.held) socket.destroy()
    d.server?.close()
  }
  const closeDealers = () => {
    for (const d of dealers.values()) closeDealer(d)
    dealers.clear()
  }

  /** The TCP socket `w` serves for `m`: with reusePort its slot's own, else the one all share. */
  const tcpSocketFor = (w: WorkerState, m: ListenAsk): ListenSocket => {
    const first = table.open('tcp', m.role, m.at)
    if (accept !== 'reusePort' || unsplittable.has(first)) return first
    try {
      return table.slot(m.role, m.at, w.slot)
    } catch (err) {
      unsplittable.add(first)
      log.warn(
        { role: m.role, port: first.port, err: (err as Error).message },
        'workerAccept reusePort: this socket was bound without SO_REUSEPORT (by systemd, or by a supervisor in another mode), so its connections are dealt round robin',
      )
      return first
    }
  }

  const serve = (s: ListenSocket, w: WorkerState) => {
    const by = servedBy.get(s) ?? new Set()
    by.add(w)
    servedBy.set(s, by)
  }

  /** Its own worker serves `s` again: the one it was lent to stops. */
  const takeBack = (s: ListenSocket) => {
    const to = lentTo.get(s)
    if (!to) return
    lentTo.delete(s)
    servedBy.get(s)?.delete(to)
    const m: TakenBack = { type: 'take-back', role: s.role, slot: s.slot ?? 0 }
    if (to.worker.isConnected()) to.worker.send(m)
  }

  const lentCount = (w: WorkerState) => [...lentTo.values()].filter((to) => to === w).length

  /** Whether a worker that has not asked yet (still starting) will serve `s` as its own. */
  const awaited = (s: ListenSocket) =>
    (accept === 'shared' && !s.slot && workers.size > 0) ||
    (accept === 'reusePort' && [...workers].some((w) => w.slot === (s.slot ?? 0)))

  const asked = (s: ListenSocket, gens: Iterable<Set<string>>) =>
    [...gens].some((roles) => roles.has(roleAt(s.role, s.at)))

  /** Lends every TCP socket no live worker serves to the ready worker with the fewest lent. */
  const lendOrphans = () => {
    const ready = [...workers].filter(takes)
    if (!serving || ready.length === 0) return
    for (const s of table.all()) {
      if (s.kind !== 'tcp' || dealers.has(s) || !asked(s, askedIn.values())) continue
      if ((servedBy.get(s)?.size ?? 0) > 0 || awaited(s)) continue
      const to = ready.reduce((a, b) => (lentCount(b) < lentCount(a) ? b : a))
      serve(s, to)
      lentTo.set(s, to)
      const m: LentSocket = { type: 'lend', role: s.role, slot: s.slot ?? 0 }
      to.worker.send(m, s.handle as never)
      log.info(
        { role: s.role, port: s.port, slot: m.slot, worker: to.worker.id },
        'no live worker serves this socket: lent to another until its own is back',
      )
    }
  }

  return {
    table,
    join: (w) => void workers.add(w),
    answer(w, m) {
      let s: ListenSocket
      try {
        s = m.kind === 'tcp' ? tcpSocketFor(w, m) : table.open(m.kind, m.role, m.at)
      } catch (err) {
        const failed: ListenAnswer = { type: 'listening', id: m.id, error: (err as Error).message }
        w.worker.send(failed)
        return
      }
      askedIn.set(w.generation, (askedIn.get(w.generation) ?? new Set()).add(roleAt(m.role, m.at)))
      const dealt = m.kind === 'tcp' && (accept === 'roundRobin' || unsplittable.has(s))
      const answer: ListenAnswer = { type: 'listening', id: m.id, port: s.port, dealt }
      if (dealt) {
        dealerOf(s).takers.push(w)
        w.worker.send(answer)
        return
      }
      w.worker.send(answer, s.handle as never)
      if (m.kind !== 'tcp') return
      takeBack(s)
      serve(s, w)
    },
    ready() {
      for (const [s, d] of dealers) for (const socket of d.held.splice(0)) deal(d, s.role, socket)
      lendOrphans()
    },
    leave(w) {
      workers.delete(w)
      for (const d of dealers.values()) d.takers = d.takers.filter((t) => t !== w)
      for (const by of servedBy.values()) by.delete(w)
      for (const [s, to] of lentTo) if (to === w) lentTo.delete(s)
      lendOrphans()
    },
    prune(current) {
      const wanted = askedIn.get(current) ?? new Set()
      // A generation that failed to start gives its number to the next one: what it asked goes too.
      askedIn.clear()
      askedIn.set(current, wanted)
      for (const s of table.all()) {
        if (!WORKER_ROLES.has(s.role) || asked(s, [wanted])) continue
        const d = dealers.get(s)
        if (d) closeDealer(d)
        dealers.delete(s)
        takeBack(s)
        servedBy.delete(s)
        table.remove(s)
        log.info(
          { role: s.role, kind: s.kind, port: s.port, slot: s.slot },
          'listener no longer in the config: its socket is closed',
        )
      }
    },
    stopDealing() {
      serving = false
      closeDealers()
    },
    close() {
      closeDealers()
      table.close()
    },
  }
}
