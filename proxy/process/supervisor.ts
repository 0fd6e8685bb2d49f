// The supervisor: owns the listening sockets (Node's cluster keeps them in this
// process and shares them with the workers) and a generation of workers that
// serve them; does no request work itself. It runs the admin API (metrics
// summed over the workers, never going backwards when a generation leaves),
// the rollout state and the plan controller on the workers' summed counters;
// reloads the workers in place (SIGHUP), replaces them with a new generation
// that is ready before the old one drains (SIGUSR2), drains everything and
// exits (SIGTERM, SIGINT), and replaces a worker that crashes, backing off
// when they keep crashing.

import cluster, { type Worker } from 'node:cluster'
import { randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client'

import type { RecordEventBody } from '../../modules/authoritative/record-event.ts'
import { addStats, newStats, type ScopeStats } from '../../rollout/scope.ts'
import { startRollout } from '../../rollout/service.ts'
import { createAdmin } from '../admin/admin-api.ts'
import { loadOrCreateToken } from '../admin/token.ts'
import { type Config, loadConfig } from '../config/config.ts'
import { scopeListOf } from '../config/scope-list.ts'
import type { Published } from '../records/feed.ts'
import { openRecordLog } from '../records/open-record-log.ts'
import type { Logger } from '../telemetry/log.ts'
import type { FromWorker, ToWorker, WireStats } from './ipc.ts'
import { bucketHost } from './shared-ratelimit.ts'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
const READY_TIMEOUT_MS = 60_000

interface WorkerState {
  worker: Worker
  generation: number
  state: 'starting' | 'ready' | 'draining'
  /** Set once its final counters are retired: it no longer answers for them. */
  drained: boolean
  stats: Record<string, WireStats>
  /** Client connections it held at its last report. */
  connections: number
  /** Whether the new path can serve each scope, as it last reported. */
  servable: { id: string; servable: boolean }[]
  /** Why it is not ready, as it last reported. */
  notReady: string[]
  ports: { dns?: number; candidate?: number; http?: number }
  /** The one worker of its generation that writes zone snapshots (they would all write the same). */
  snapshotWriter: boolean
}

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

export interface SupervisorStatus {
  generation: number
  workers: {
    id: number
    pid: number | undefined
    generation: number
    state: string
    connections: number
  }[]
  reloads: number
  lastReload: { ok: boolean; error?: string } | undefined
  crashes: number
}

/** Runs the supervisor until it is stopped; resolves with the exit code. */
export async function runSupervisor(file: string, log: Logger): Promise<number> {
  const config = loadConfig(file)
  const count = config.workers === 'auto' ? availableParallelism() : config.workers
  const token = loadOrCreateToken(config)
  const scopes = scopeListOf(config).all
  const own = new Registry()
  const rolloutPercent = new Gauge({
    name: 'cutover_rollout_percent',
    help: "Share of a scope's traffic on the new path, in percent",
    labelNames: ['scope'],
    registers: [own],
  })
  const workersGauge = new Gauge({
    name: 'cutover_workers',
    help: 'Worker processes by state',
    labelNames: ['state'],
    registers: [own],
  })
  const crashCount = new Counter({
    name: 'cutover_worker_crashes_total',
    help: 'Workers that exited without being told to',
    registers: [own],
  })
  const drainCut = new Counter({
    name: 'cutover_drain_cut_total',
    help: 'Requests and connections still in flight when a drain deadline ended them',
    registers: [own],
  })
  const rollout = await startRollout(config, scopes, rolloutPercent, log, true)

  const workers = new Map<number, WorkerState>()
  let generation = 0
  let stopping = false
  let reloads = 0
  let lastReload: SupervisorStatus['lastReload']
  const crashTimes: number[] = []
  let crashes = 0
  // Counters of workers that are gone, so the sums never go backwards.
  let retiredMetrics: MetricsJson = []
  let retiring: Promise<void> = Promise.resolve()

  const takeToken = bucketHost()
  const retiredStats = new Map<string, ScopeStats>()

  const pending = new Map<number, (m: FromWorker) => void>()
  let nextRequest = 1

  const sendTo = (w: Worker, m: ToWorker) => {
    if (w.isConnected()) w.send(m)
  }

  /** Sums the workers' scope counters (and those retired) into the scopes the controller reads. */
  const sumStats = () => {
    for (const [id, scope] of scopes) {
      const sum = newStats()
      for (const w of workers.values()) {
        const s = w.stats[id]
        if (s) addStats(sum, s)
      }
      const gone = retiredStats.get(id)
      if (gone) addStats(sum, gone)
      Object.assign(scope.stats, sum)
    }
  }
  const statsTimer = setInterval(sumStats, 1000)
  statsTimer.unref()

  const retire = (w: WorkerState, metrics: MetricsJson | undefined) => {
    for (const [id, s] of Object.entries(w.stats)) {
      const r = retiredStats.get(id) ?? newStats()
      addStats(r, s)
      retiredStats.set(id, r)
    }
    w.stats = {}
    if (metrics) {
      // Counters and histograms only: a gone worker's gauges describe nothing any more.
      const monotonic = metrics.filter(
        (m) => String(m.type) === 'counter' || String(m.type) === 'histogram',
      )
      retiring = retiring.then(async () => {
        retiredMetrics = await AggregatorRegistry.aggregate([
          retiredMetrics,
          monotonic,
        ]).getMetricsAsJSON()
      })
    }
  }

  /** The new path's reach, as a worker reports it, onto the scopes the rollout state is applied to. */
  const applyServable = (w: WorkerState) => {
    for (const s of w.servable) {
      const scope = scopes.get(s.id)
      if (scope) scope.servable = s.servable
    }
    rollout.reapply()
  }

  const fork = (gen: number, snapshotWriter: boolean): Promise<WorkerState> => {
    const worker = cluster.fork({
      CUTOVER_CONFIG: config.file,
      CUTOVER_GENERATION: String(gen),
      CUTOVER_SNAPSHOT_WRITER: snapshotWriter ? '1' : '0',
      // Compiled code kept between workers: a new generation starts in about half the time.
      NODE_COMPILE_CACHE: join(config.state, 'compile-cache'),
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
      ports: {},
      snapshotWriter,
    }
    workers.set(worker.id, w)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.process.kill('SIGKILL')
        reject(new Error(`worker ${worker.id} was not ready within ${READY_TIMEOUT_MS / 1000} s`))
      }, READY_TIMEOUT_MS)

      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            w.ports = m.ports
            w.servable = m.scopes
            if (w.state === 'starting') {
              w.state = 'ready'
              clearTimeout(timer)
              resolve(w)
            }
            applyServable(w)
            break
          case 'failed':
            clearTimeout(timer)
            reject(new Error(`worker ${worker.id} failed to start: ${m.error}`))
            break
          case 'take':
            sendTo(worker, takeToken(m))
            break
          case 'stats':
            w.stats = m.scopes
            w.connections = m.connections
            w.notReady = m.notReady
            break
          case 'record-outcome':
            recordOutcomes.get(m.id)?.(worker.id, m.outcome)
            break
          case 'drained':
            w.drained = true
            retire(w, m.metrics as MetricsJson)
            if (m.cut > 0) {
              drainCut.inc(m.cut)
              log.warn({ worker: worker.id, cut: m.cut }, 'drain deadline cut requests in flight')
            }
            break
          case 'reloaded':
          case 'metrics':
          case 'shadow':
            pending.get('id' in m ? m.id : -1)?.(m)
            if (m.type === 'reloaded') pending.get(-worker.id)?.(m)
            break
        }
      })
      worker.on('exit', (code, signal) => {
        clearTimeout(timer)
        const was = workers.get(worker.id)
        workers.delete(worker.id)
        if (was?.stats && Object.keys(was.stats).length > 0) retire(was, undefined)
        if (was?.state === 'draining' || stopping) return
        if (was?.state === 'starting')
          return reject(new Error(`worker ${worker.id} exited (${signal ?? code}) while starting`))
        crashes++
        crashCount.inc()
        log.error({ worker: worker.id, code, signal }, 'worker died; replacing it')
        replaceCrashed(was?.generation ?? generation, was?.snapshotWriter ?? false)
      })
    })
  }

  /** A crashed worker is replaced at once; one that keeps crashing, after a growing pause. */
  const replaceCrashed = (gen: number, snapshotWriter: boolean) => {
    const now = Date.now()
    crashTimes.push(now)
    while (crashTimes.length > 0 && crashTimes[0] < now - 60_000) crashTimes.shift()
    const backoffMs =
      crashTimes.length <= 3 ? 0 : Math.min(30_000, 250 * 2 ** (crashTimes.length - 3))
    if (backoffMs > 0)
      log.error(
        { crashesLastMinute: crashTimes.length, backoffMs },
        'workers keep crashing: backing off before the next one',
      )
    setTimeout(() => {
      if (!stopping && gen === generation)
        fork(gen, snapshotWriter).catch((err) => {
          // It counts as a crash too: the pause before the next try keeps growing.
          crashes++
          crashCount.inc()
          log.error({ err: (err as Error).message }, 'replacement worker failed to start')
          replaceCrashed(gen, snapshotWriter)
        })
    }, backoffMs).unref()
  }

  const drainGeneration = async (gen: number) => {
    const old = [...workers.values()].filter((w) => w.generation === gen)
    await Promise.all(
      old.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.state = 'draining'
            w.worker.once('exit', () => resolve())
            sendTo(w.worker, { type: 'drain', deadlineMs: config.drainDeadline })
            // A worker that does not exit after its deadline is ended.
            setTimeout(() => w.worker.process.kill('SIGKILL'), config.drainDeadline + 5000).unref()
          }),
      ),
    )
  }

  const startGeneration = async () => {
    const gen = ++generation
    await Promise.all(Array.from({ length: Math.max(count, 1) }, (_, i) => fork(gen, i === 0)))
    log.info({ generation: gen, workers: count }, 'generation ready')
    return gen
  }

  const restart = async () => {
    const old = generation
    try {
      await startGeneration()
    } catch (err) {
      log.error(
        { err: (err as Error).message },
        'restart failed: the new generation did not start; the old one keeps serving',
      )
      for (const w of [...workers.values()].filter(
        (x) => x.generation === generation && generation !== old,
      ))
        w.worker.process.kill('SIGKILL')
      generation = old
      return
    }
    await drainGeneration(old)
    log.info({ generation }, 'restart done')
  }

  const refuse = (error: string, why: string) => {
    lastReload = { ok: false, error }
    reloads++
    log.error({ err: error }, `reload refused: ${why}; the old config keeps serving`)
  }

  const reload = async () => {
    let next: Config

    try {
      next = loadConfig(config.file)
    } catch (err) {
      return refuse((err as Error).message, 'the config does not validate')
    }
    const live = [...workers.values()].filter((w) => w.state === 'ready')
    const results = await Promise.all(
      live.map(
        (w) =>
          new Promise<FromWorker>((resolve) => {
            pending.set(-w.worker.id, (m) => {
              pending.delete(-w.worker.id)
              resolve(m)
            })
            sendTo(w.worker, { type: 'reload' })
          }),
      ),
    )
    const failed = results.find((m) => m.type === 'reloaded' && !m.ok)
    if (failed?.type === 'reloaded') return refuse(failed.error ?? 'unknown', 'a worker refused it')
    await rollout.adopt(scopeListOf(next).all)
    for (const w of live) applyServable(w)
    lastReload = { ok: true }
    reloads++
    log.info({ workers: live.length }, 'reloaded')
  }

  /** Asks every live worker and gathers the answers (bounded). */
  const ask = async <T extends FromWorker>(make: (id: number) => ToWorker): Promise<T[]> => {
    const live = [...workers.values()].filter(
      (w) => w.state !== 'starting' && !w.drained && w.worker.isConnected(),
    )
    const all = await Promise.all(
      live.map(
        (w) =>
          new Promise<FromWorker | undefined>((resolve) => {
            const id = nextRequest++
            const timer = setTimeout(() => {
              pending.delete(id)
              resolve(undefined)
            }, 2000)
            pending.set(id, (m) => {
              clearTimeout(timer)
              pending.delete(id)
              resolve(m)
            })
            sendTo(w.worker, make(id))
          }),
      ),
    )
    return all.filter((x) => x !== undefined) as T[]
  }

  const metrics = {
    contentType: own.contentType,
    async metrics(): Promise<string> {
      const replies = await ask<Extract<FromWorker, { type: 'metrics' }>>((id) => ({
        type: 'metrics',
        id,
      }))
      await retiring

      const aggregated = AggregatorRegistry.aggregate([
        retiredMetrics,
        ...replies.map((r) => r.metrics as MetricsJson),
      ])
      workersGauge.reset()
      for (const w of workers.values()) workersGauge.inc({ state: w.state })
      return `${await aggregated.metrics()}\n${await own.metrics()}`
    },
  }

  // Record events from the admin API: into the log, answered once every ready worker applied them.
  const recordOutcomes = new Map<number | string, (worker: number, outcome: Published) => void>()
  const recordLog = config.dns ? openRecordLog(config.dns.records) : undefined
  const publishRecord = async (body: RecordEventBody): Promise<Published | undefined> => {
    const id = randomUUID()
    const waitingFor = new Set(
      [...workers.values()].filter((w) => w.state === 'ready').map((w) => w.worker.id),
    )
    const outcome = new Promise<Published | undefined>((resolve) => {
      let first: Published | undefined
      const done = (o: Published | undefined) => {
        clearTimeout(timer)
        recordOutcomes.delete(id)
        resolve(o)
      }
      const timer = setTimeout(() => done(undefined), 5000)
      recordOutcomes.set(id, (worker, o) => {
        first ??= o
        waitingFor.delete(worker)
        if (waitingFor.size === 0) done(first)
      })
    })
    await recordLog!.append(JSON.stringify({ ...body, id }))
    return outcome
  }

  cluster.setupPrimary({ exec: WORKER, args: [] })
  try {
    await startGeneration()
  } catch (err) {
    // The workers that did start would serve on without a supervisor that gave up.
    for (const w of workers.values()) w.worker.process.kill('SIGKILL')
    throw err
  }

  const admin = createAdmin({
    registry: metrics,
    token,
    rollout,
    publishRecord: config.dns && publishRecord,

    shadow: async (scope: string) => {
      const replies = await ask<Extract<FromWorker, { type: 'shadow' }>>((id) => ({
        type: 'shadow',
        id,
        scope,
      }))
      return {
        examples: replies.flatMap((r) => r.examples),
        fields: replies.flatMap((r) => r.fields),
      }
    },
    notReady: () => {
      const reasons = rollout.notReady()
      if (stopping) reasons.push('draining')
      const ready = [...workers.values()].filter((w) => w.state === 'ready')
      if (ready.length === 0) reasons.push('no worker is ready')
      reasons.push(...new Set(ready.flatMap((w) => w.notReady)))
      if (crashTimes.length > 3)
        reasons.push(`workers keep crashing (${crashTimes.length} in the last minute)`)
      return reasons
    },
    status: (): SupervisorStatus => ({
      generation,
      workers: [...workers.values()].map((w) => ({
        id: w.worker.id,
        pid: w.worker.process.pid,
        generation: w.generation,
        state: w.state,
        connections: w.connections,
      })),
      reloads,
      lastReload,
      crashes,
    }),
  })
  await admin.listen({ host: config.admin.listen.host, port: config.admin.listen.port })
  const ports = [...workers.values()][0]?.ports ?? {}
  const at = (hp: { host: string } | undefined, port: number | undefined) =>
    hp && port ? `${hp.host}:${port}` : undefined
  const adminAddress = admin.server.address()
  log.info(
    {
      dns: at(config.dns?.listen, ports.dns),
      candidate: at(config.dns?.candidateListen, ports.candidate),
      http: at(config.http?.listen, ports.http),
      admin: `${config.admin.listen.host}:${typeof adminAddress === 'object' && adminAddress ? adminAddress.port : config.admin.listen.port}`,
      workers: count,
    },
    'cutover is serving',
  )

  let busy: Promise<void> = Promise.resolve()
  const serial = (job: () => Promise<void>) => {
    busy = busy.then(job, job)
  }
  process.on('SIGHUP', () => serial(reload))
  process.on('SIGUSR2', () => serial(restart))
  return new Promise((done) => {
    const stop = (signal: string) => {
      if (stopping) return
      log.info({ signal }, 'stopping: draining every worker')
      serial(async () => {
        stopping = true
        await drainGeneration(generation)
        clearInterval(statsTimer)
        await admin.close()
        await rollout.stop()
        await recordLog?.close()

        done(0)
      })
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  })
}
