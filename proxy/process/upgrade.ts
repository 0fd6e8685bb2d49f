// `cutover upgrade`: the supervisor replaced by a new one started from the code
// and Node on disk, as nginx's binary upgrade does. The old supervisor starts
// the new one as its child with an IPC channel (a Unix socket pair) and sends
// it every listening socket (never closed: the new one gets its own
// descriptor), then the ticket key. The new one starts its workers on them;
// once they are ready the old one gives up the admin API and the plans, and
// the new one takes them. The old one then drains its workers, handing idle
// DNS-over-TCP connections on to the new one's, and sends its counters, so
// the sums the new one serves go on from where the old one's were.
//
//   old                                     new (cutover start, CUTOVER_UPGRADE=1)
//   socket ×N, handover ───────────────────►  workers start on the sockets
//                       ◄─────────────────── ready
//   admin closed, plans stopped
//   released ──────────────────────────────►  admin listens, plans run
//                       ◄─────────────────── serving
//   drain (connections, counters) ─────────►  counters kept, connections passed on
//   exit                                      (serves on)

import { type ChildProcess, spawn } from 'node:child_process'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { HandedConnection } from '../net/connection-handover.ts'
import type { ListenSocket, RawHandle } from '../net/listen-sockets.ts'
import type { Generations } from './generations.ts'
import type { WireStats } from './ipc.ts'

const CLI = fileURLToPath(new URL('../../cli/cutover.ts', import.meta.url))
/** Set in the new supervisor's environment: it takes its sockets from its parent. */
const UPGRADE_ENV = 'CUTOVER_UPGRADE'
/** How often a supervisor that was replaced sends its successor its counters while it drains. */
const COUNTERS_MS = 1000
/** How long a new supervisor may take from its start to serving. */
export const UPGRADE_WITHIN_MS = 90_000

/** What the old supervisor has counted: its workers' counters and scope counters, and its own counters. */
export interface Counters {
  workers: unknown
  scopes: Record<string, WireStats>
  own: unknown
}

type ToSuccessor =
  | { type: 'socket'; socket: Omit<ListenSocket, 'handle'> }
  | { type: 'handover'; ticketKey: string | undefined; generation: number }
  | { type: 'released'; counters: Counters }
  | { type: 'counters'; counters: Counters }
  | HandedConnection

type ToPredecessor = { type: 'ready' } | { type: 'serving' } | { type: 'failed'; error: string }

/** The old supervisor's view of the new one. */
export interface Successor {
  pid: number
  /** Resolves once the new one's workers are ready; rejects with why it failed. */
  ready: Promise<void>
  /** Hands over the admin API and plans; resolves once the new one serves them. */
  release(counters: Counters): Promise<void>
  /** The old one's counters so far (it keeps sending them while it drains); resolves once sent. */
  counters(counters: Counters): Promise<void>
  /** An idle DNS-over-TCP connection of a draining worker, for the new one's workers. */
  passOn(m: HandedConnection, socket: Socket): void
  /** Ends a new one that failed before it served. */
  kill(): void
}

function sendTo(child: ChildProcess, m: ToSuccessor, handle?: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!child.connected) {
      reject(new Error('the new supervisor is gone'))
      return
    }
    child.send(m, handle as never, {}, (err) => (err ? reject(err) : resolve()))
  })
}

/** Starts a new supervisor for `configFile` from the code on disk and sends it the sockets. */
export async function startSuccessor(
  configFile: string,
  sockets: ListenSocket[],
  ticketKey: Buffer | undefined,
  generation: number,
): Promise<Successor> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, CLI, 'start', '--config', configFile],
    {
      // Its log goes where this one's goes; it outlives this process.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [UPGRADE_ENV]: '1' },
    },
  )
  const heard = (type: ToPredecessor['type']) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (m: ToPredecessor) => {
        if (m.type === type) done(resolve)
        else if (m.type === 'failed') done(() => reject(new Error(m.error)))
      }
      const onExit = (code: number | null, signal: string | null) =>
        done(() =>
          reject(new Error(`the new supervisor exited (${signal ?? code}) before it served`)),
        )
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new Error(`the new supervisor was not ${type} within ${UPGRADE_WITHIN_MS / 1000} s`),
            ),
          ),
        UPGRADE_WITHIN_MS,
      )
      const done = (settle: () => void) => {
        clearTimeout(timer)
        child.off('message', onMessage)
        child.off('exit', onExit)
        settle()
      }
      child.on('message', onMessage)
      child.on('exit', onExit)
    })
  const ready = heard('ready')
  ready.catch(() => {})
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  for (const { handle, ...socket } of sockets)
    await sendTo(child, { type: 'socket', socket }, handle)
  await sendTo(child, {
    type: 'handover',
    ticketKey: ticketKey?.toString('base64'),
    generation,
  })
  return {
    pid: child.pid ?? 0,
    ready,
    async release(counters) {
      const serving = heard('serving')
      await sendTo(child, { type: 'released', counters })
      await serving
      // From here on it lives without this process.
      child.unref()
    },
    counters: (counters) => sendTo(child, { type: 'counters', counters }).catch(() => {}),
    passOn(m, socket) {
      sendTo(child, m, socket).catch(() => socket.destroy())
    },
    kill: () => void child.kill('SIGKILL'),
  }
}

/** The new supervisor's view of the old one. */
export interface Predecessor {
  sockets: ListenSocket[]
  ticketKey: Buffer | undefined
  /** The old one's newest generation: this one's first is the next. */
  generation: number
  ready(): void
  failed(error: string): void
  /** Resolves with the old one's counters once it gave up the admin API and plans. */
  released: Promise<Counters>
  serving(): void
  /** Counters the old one sends while it drains; each replaces the one before. */
  onCounters(take: (c: Counters) => void): void
  /** Connections the old one's draining workers hand on. */
  onConnection(take: (m: HandedConnection, socket: Socket) => void): void
}

/** Whether this process is a supervisor started by `cutover upgrade`. */
export function startedByUpgrade(): boolean {
  return process.env[UPGRADE_ENV] === '1' && process.send !== undefined
}

/** When this process is a supervisor started by `cutover upgrade`: waits for its sockets. */
export async function predecessor(): Promise<Predecessor | undefined> {
  if (!startedByUpgrade()) return undefined
  delete process.env[UPGRADE_ENV]
  const send = (m: ToPredecessor) => {
    if (process.connected) process.send?.(m)
  }
  const sockets: ListenSocket[] = []
  let takeCounters: (c: Counters) => void = () => {}
  let takeConnection: (m: HandedConnection, socket: Socket) => void = (_m, s) => s.destroy()
  const released = Promise.withResolvers<Counters>()
  released.promise.catch(() => {})
  const { ticketKey, generation } = await new Promise<{
    ticketKey: Buffer | undefined
    generation: number
  }>((resolve) => {
    process.on('message', (m: ToSuccessor, handle?: unknown) => {
      switch (m.type) {
        case 'socket':
          sockets.push({ ...m.socket, handle: handle as RawHandle })
          break
        case 'handover':
          resolve({
            ticketKey: m.ticketKey ? Buffer.from(m.ticketKey, 'base64') : undefined,
            generation: m.generation,
          })
          break
        case 'released':
          released.resolve(m.counters)
          break
        case 'counters':
          takeCounters(m.counters)
          break
        case 'connection':
          if (handle) takeConnection(m, handle as Socket)
          break
      }
    })
  })
  // The old supervisor going away ends only the channel; before it handed over, the upgrade.
  process.on('disconnect', () =>
    released.reject(new Error('the old supervisor went away before it handed over')),
  )
  return {
    sockets,
    ticketKey,
    generation,
    ready: () => send({ type: 'ready' }),
    failed: (error) => send({ type: 'failed', error }),
    released: released.promise,
    serving: () => send({ type: 'serving' }),
    onCounters(take) {
      takeCounters = take
    },
    onConnection(take) {
      takeConnection = take
    },
  }
}

/**
 * The old supervisor's side up to the hand-over: a successor started, ready,
 * and given the plans (`lead(false)`) and the counters; or why not, the
 * successor ended and the plans taken back.
 */
export async function upgradeTo(o: {
  configFile: string
  sockets: ListenSocket[]
  ticketKey: Buffer | undefined
  generation: number
  counters(): Promise<Counters>
  lead(on: boolean): void
}): Promise<Successor | { error: string }> {
  let successor: Successor | undefined
  try {
    successor = await startSuccessor(o.configFile, o.sockets, o.ticketKey, o.generation)
    await successor.ready
    o.lead(false)
    await successor.release(await o.counters())
    return successor
  } catch (err) {
    successor?.kill()
    o.lead(true)
    return { error: (err as Error).message }
  }
}

/** Drains `gens`' current generation into the successor's workers, sending the counters every second and once more after. */
export async function drainInto(
  successor: Successor,
  gens: Generations,
  counters: () => Promise<Counters>,
): Promise<void> {
  gens.handTo((m, socket) => successor.passOn(m, socket))
  const timer = setInterval(() => void counters().then((c) => successor.counters(c)), COUNTERS_MS)
  await gens.drain(gens.current, true)
  clearInterval(timer)
  await successor.counters(await counters())
}
