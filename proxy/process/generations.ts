// The supervisor's workers, by generation: forks a generation and waits until
// every worker of it is ready (within a bound), drains a generation, and
// replaces a worker that dies unasked, pausing longer when they keep dying.

import cluster, { type Worker } from 'node:cluster'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config } from '../config/config.ts'
import { type HandedConnection, takeUnread } from '../net/connection-handover.ts'
import type { Logger } from '../telemetry/log.ts'
import { TICKET_KEYS_ENV } from '../tls/ticket-keys.ts'
import { crashWindow } from './crash-backoff.ts'
import type { FromWorker, ToWorker, WireStats } from './ipc.ts'
import type { SupervisorSockets } from './supervisor-sockets.ts'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
/** How long a worker may take to build its zones and sites and say it is ready. */
export const READY_TIMEOUT_MS = 60_000
/** How long after its drain deadline a worker that has not exited is ended. */
const DRAIN_GRACE_MS = 5000

export interface WorkerState {
  worker: Worker
  generation: number
  state: 'starting' | 'ready' | 'draining'
  /** Set once it sent its final counters: it no longer answers for them. */
  drained: boolean
  stats: Record<string, WireStats>
  /** Client connections it held at its last report. */
  connections: number
  /** Whether the new path can serve each scope, as it last reported. */
  servable: { id: string; servable: boolean }[]
  /** Why it is not ready, as it last reported. */
  notReady: string[]
  /** What /readyz warns about, as it last reported. */
  warnings: string[]
  ports: { dns?: number; candidate?: number; http?: number; https?: number; dot?: number }
  /**
   * Its place in its generation, kept by its replacement: with `workerAccept:
   * reusePort`, whose sockets it serves. Slot 0 is the one worker of its
   * generation that writes zone snapshots (they would all write the same).
   */
  slot: number
  /** Told to drain for a restart: its idle connections go to the new generation. */
  handOver?: boolean
}

export interface GenerationsOptions {
  /** Where a worker reads its config (it reads the file again at each start and reload). */
  config: Pick<Config, 'file' | 'state' | 'drainDeadline' | 'upgradeDrainDeadline'>
  /** Workers per generation. */
  count: number
  log: Logger
  /** Every message from a worker, after its state took what it reports. */
  message(w: WorkerState, m: FromWorker): void
  /** A worker exited, for whatever reason. */
  exited(w: WorkerState): void
  /** A worker died unasked, or its replacement did not start. */
  crashed(): void
  /** The session ticket keys a new worker starts with, when the config has TLS listeners. */
  ticketKeys(): Buffer | undefined
  /** The listening sockets workers ask for. */
  sockets: SupervisorSockets
  /** Generations the supervisor this one replaced had: numbering goes on from there. */
  generationsBefore: number
}

export function sendTo(w: WorkerState, m: ToWorker): void {
  if (w.worker.isConnected()) w.worker.send(m)
}

/** Every live worker starts making session tickets with `keys`. */
export function sendTicketKeys(workers: readonly WorkerState[], keys: Buffer): void {
  for (const w of workers) sendTo(w, { type: 'ticket-keys', keys: keys.toString('base64') })
}

export class Generations {
  #current = 0
  #crashes = 0
  #o: GenerationsOptions
  #workers = new Map<number, WorkerState>()
  /** Generations not told to drain: a worker of one of them that dies is replaced. */
  #live = new Set<number>()
  #window = crashWindow()
  #stopping = false
  #nextTaker = 0
  /** Where handed-over connections go instead of this supervisor's workers: its successor's. */
  #handTo: ((m: HandedConnection, socket: Socket) => void) | undefined

  constructor(o: GenerationsOptions) {
    this.#o = o
    this.#current = o.generationsBefore
    cluster.setupPrimary({ exec: WORKER, args: [] })
  }

  /** The newest generation: the one serving, or the one starting to take over from it. */
  get current(): number {
    return this.#current
  }

  /** Workers that died unasked since the start, and replacements that failed to start. */
  get crashes(): number {
    return this.#crashes
  }

  all(): WorkerState[] {
    return [...this.#workers.values()]
  }

  ready(): WorkerState[] {
    return this.all().filter((w) => w.state === 'ready')
  }

  /** Crashes in the last minute, when they are too many for a healthy proxy; else 0. */
  crashingTooOften(): number {
    const now = Date.now()
    return this.#window.tooMany(now) ? this.#window.lastMinute(now) : 0
  }

  /**
   * Forks a new generation and resolves once all of it is ready. If a worker
   * of it fails, the rest of it is ended and this throws: the generation
   * serving before stays the current one.
   */
  async start(): Promise<number> {
    const before = this.#current
    const gen = ++this.#current
    this.#live.add(gen)
    const count = Math.max(this.#o.count, 1)
    try {
      await Promise.all(Array.from({ length: count }, (_, slot) => this.#fork(gen, slot)))
    } catch (err) {
      this.#live.delete(gen)
      this.#current = before
      for (const w of this.#of(gen)) {
        // Leaving, not crashing: its exit is neither counted nor replaced.
        w.state = 'draining'
        w.worker.process.kill('SIGKILL')
      }
      throw err
    }
    this.#o.log.info({ generation: gen, workers: count }, 'generation ready')
    return gen
  }

  /**
   * Drains every worker of `gen`; resolves once they all exited. `handOver`
   * (a restart): their idle DNS-over-TCP connections go to the current generation.
   */
  async drain(gen: number, handOver = false): Promise<void> {
    this.#live.delete(gen)
    await Promise.all(this.#of(gen).map((w) => this.#drainOne(w, handOver)))
  }

  /** Connections handed over from now on go to `to` (a successor supervisor) rather than to a worker here. */
  handTo(to: (m: HandedConnection, socket: Socket) => void): void {
    this.#handTo = to
  }

  /** No worker is replaced from now on: the supervisor is stopping. */
  stopping(): void {
    this.#stopping = true
  }

  /** Ends every worker at once (a start that failed: they must not serve without a supervisor). */
  killAll(): void {
    this.#stopping = true
    for (const w of this.#workers.values()) w.worker.process.kill('SIGKILL')
  }

  #of(gen: number): WorkerState[] {
    return this.all().filter((w) => w.generation === gen)
  }

  #drainOne(w: WorkerState, handOver: boolean): Promise<void> {
    return new Promise((resolve) => {
      w.handOver = handOver
      this.#o.sockets.leave(w)
      // A worker still starting does not listen for messages yet: it is told when it is ready.
      if (w.state !== 'starting') this.#tellDrain(w)
      w.state = 'draining'
      const kill = setTimeout(
        () => w.worker.process.kill('SIGKILL'),
        // Upgraded connections (WebSockets) may run on until their own, longer deadline.
        Math.max(this.#o.config.drainDeadline, this.#o.config.upgradeDrainDeadline) +
          DRAIN_GRACE_MS,
      )
      w.worker.once('exit', () => {
        clearTimeout(kill)
        resolve()
      })
    })
  }

  #fork(gen: number, slot: number): Promise<WorkerState> {
    const { file, state } = this.#o.config
    const worker = cluster.fork({
      CUTOVER_CONFIG: file,
      CUTOVER_GENERATION: String(gen),
      CUTOVER_SNAPSHOT_WRITER: slot === 0 ? '1' : '0',
      [TICKET_KEYS_ENV]: this.#o.ticketKeys()?.toString('base64') ?? '',
      // Compiled code kept between workers: a new generation starts in about half the time.
      NODE_COMPILE_CACHE: join(state, 'compile-cache'),
    })
    const w: WorkerState = {
      worker,
      generation: gen,
      state: 'starting',
      drained: false,
      stats: {},
      connections: 0,
      servable: [],
      notReady: [],
      warnings: [],
      ports: {},
      slot,
    }
    this.#workers.set(worker.id, w)
    this.#o.sockets.join(w)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.process.kill('SIGKILL')
        reject(new Error(`worker ${worker.id} was not ready within ${READY_TIMEOUT_MS / 1000} s`))
      }, READY_TIMEOUT_MS)
      worker.on('message', (m: FromWorker, handle?: Socket) => {
        switch (m.type) {
          case 'connection':
            if (handle) this.passOn(m, handle)
            return
          case 'listen':
            this.#o.sockets.answer(w, m)
            return
          case 'ready':
            clearTimeout(timer)
            this.#ready(w, m)
            if (w.state === 'ready') resolve(w)
            break
          case 'failed':
            clearTimeout(timer)
            reject(new Error(`worker ${worker.id} failed to start: ${m.error}`))
            break
          case 'stats':
            w.stats = m.scopes
            w.connections = m.connections
            w.notReady = m.notReady
            w.warnings = m.warnings
            break
          case 'drained':
            w.drained = true
            break
        }
        this.#o.message(w, m)
      })
      worker.on('exit', (code, signal) => {
        clearTimeout(timer)
        this.#workers.delete(worker.id)
        this.#o.sockets.leave(w)
        this.#o.exited(w)
        const wasStarting = w.state === 'starting'
        // Settles a start still waiting; no effect once it was ready.
        reject(new Error(`worker ${worker.id} exited (${signal ?? code}) while starting`))
        if (wasStarting || w.state === 'draining' || this.#stopping) return
        this.#o.log.error({ worker: worker.id, code, signal }, 'worker died; replacing it')
        this.#crashed(gen, slot)
      })
    })
  }

  #ready(w: WorkerState, m: Extract<FromWorker, { type: 'ready' }>): void {
    w.ports = m.ports
    w.servable = m.scopes
    // The key it started with is not the one it serves with: Node's cluster gives a
    // TLS listener the ticket key of the first worker that shared its socket (in a
    // restart, a key rotated out since), and a rotation sent while it started went unheard.
    const keys = this.#o.ticketKeys()
    if (keys) sendTicketKeys([w], keys)
    if (w.state === 'starting') {
      w.state = 'ready'
      this.#o.sockets.ready()
    }
    // Told to drain while it was starting, when it could not hear it yet.
    else if (w.state === 'draining') this.#tellDrain(w)
  }

  #tellDrain(w: WorkerState): void {
    sendTo(w, {
      type: 'drain',
      deadlineMs: this.#o.config.drainDeadline,
      handOver: w.handOver === true,
    })
  }

  /**
   * A connection a draining worker handed over (here, or the predecessor's)
   * goes to a ready worker of the current generation, in turn, or to the
   * successor; with none left to take it, it is closed.
   */
  passOn(m: HandedConnection, socket: Socket): void {
    // Node made it a reading socket here: stop that before it reads a query, and carry what it read.
    const unread = takeUnread(socket)
    if (unread.length > 0)
      m = {
        ...m,
        data: Buffer.concat([Buffer.from(m.data, 'base64'), ...unread]).toString('base64'),
      }
    if (this.#handTo) {
      this.#handTo(m, socket)
      return
    }
    const takers = this.#of(this.#current).filter(
      (w) => w.state === 'ready' && w.worker.isConnected(),
    )
    const to = takers[this.#nextTaker++ % Math.max(takers.length, 1)]
    if (to) to.worker.send(m, socket)
    else socket.destroy()
  }

  /** Counts a crash and replaces the worker: at once, or after a pause when they keep crashing. */
  #crashed(gen: number, slot: number): void {
    this.#crashes++
    this.#o.crashed()
    const now = Date.now()
    const pauseMs = this.#window.crashed(now)
    if (pauseMs > 0)
      this.#o.log.error(
        { crashesLastMinute: this.#window.lastMinute(now), backoffMs: pauseMs },
        'workers keep crashing: backing off before the next one',
      )
    const wanted = () => !this.#stopping && this.#live.has(gen)
    setTimeout(() => {
      if (!wanted()) return
      this.#fork(gen, slot).catch((err: Error) => {
        if (!wanted()) return
        this.#o.log.error({ err: err.message }, 'replacement worker failed to start')
        // It counts as a crash too: the pause before the next try keeps growing.
        this.#crashed(gen, slot)
      })
    }, pauseMs).unref()
  }
}
