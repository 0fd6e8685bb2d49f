// The supervisor's side of the workers' sockets: it binds each one when a
// worker first asks (listen-sockets.ts keeps it open for the supervisor's
// life) and answers every ask for it. With `workerAccept: shared` the worker
// gets the socket and accepts from it beside the others; with `roundRobin`
// the supervisor accepts, the connection paused unread, and deals it to the
// workers in turn, as node:cluster's round robin does.

import { createServer, type Server, type Socket } from 'node:net'
import type { Config } from '../config/config.ts'
import type { ListenSocket, ListenSockets } from '../net/listen-sockets.ts'
import type { WorkerState } from './generations.ts'
import type { DealtConnection, ListenAnswer, ListenAsk } from './worker-sockets.ts'

/** Connections accepted while no worker takes them (all of them died): held for the next one, up to this many. */
const MAX_HELD = 1024

interface Dealer {
  server: Server | undefined
  takers: WorkerState[]
  next: number
  held: Socket[]
}

export interface SupervisorSockets {
  readonly table: ListenSockets
  /** Answers a worker's ask for a socket. */
  answer(w: WorkerState, m: ListenAsk): void
  /** A worker became ready: connections held for want of one go out now. */
  ready(): void
  /** `w` is dealt no more connections (it drains, or is gone). */
  leave(w: WorkerState): void
  /** Accepts no more (a successor accepts from now on); the sockets stay open. */
  stopDealing(): void
  /** Closes every socket, for good. */
  close(): void
}

export function supervisorSockets(
  table: ListenSockets,
  accept: Config['workerAccept'],
): SupervisorSockets {
  const dealers = new Map<ListenSocket, Dealer>()

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
  const closeDealers = () => {
    for (const d of dealers.values()) {
      for (const socket of d.held) socket.destroy()
      d.server?.close()
    }
    dealers.clear()
  }

  return {
    table,
    answer(w, m) {
      let s: ListenSocket
      try {
        s = table.open(m.kind, m.role, m.at)
      } catch (err) {
        const failed: ListenAnswer = { type: 'listening', id: m.id, error: (err as Error).message }
        w.worker.send(failed)
        return
      }
      const dealt = m.kind === 'tcp' && accept === 'roundRobin'
      const answer: ListenAnswer = { type: 'listening', id: m.id, port: s.port, dealt }
      if (!dealt) {
        w.worker.send(answer, s.handle as never)
        return
      }
      dealerOf(s).takers.push(w)
      w.worker.send(answer)
    },
    ready() {
      for (const [s, d] of dealers) for (const socket of d.held.splice(0)) deal(d, s.role, socket)
    },
    leave(w) {
      for (const d of dealers.values()) d.takers = d.takers.filter((t) => t !== w)
    },
    stopDealing: closeDealers,
    close() {
      closeDealers()
      table.close()
    },
  }
}
