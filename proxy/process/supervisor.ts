// The supervisor: owns the listening sockets (bound here, or taken from
// systemd or from the supervisor it replaced, and given to the workers) and
// the generations of workers that serve them; does no request work itself. It
// runs the admin API, the rollout state and plans, and the rate limit buckets
// the workers share. Reload, restart, upgrade and stop run one at a time;
// docs/process-model.md tells how.

import { availableParallelism } from 'node:os'
import type { FastifyInstance } from 'fastify'
import { type RolloutService, startRollout } from '../../rollout/service.ts'
import { loadNamedTokens, type NamedToken, tokensOr } from '../admin/token.ts'
import { type Config, loadConfig } from '../config/config.ts'
import { scopeListOf } from '../config/scope-list.ts'
import { systemdSockets } from '../net/systemd-sockets.ts'
import { openRecordLog } from '../records/open-record-log.ts'
import type { RecordLog } from '../records/record-log.ts'
import type { Logger } from '../telemetry/log.ts'
import { registerRolloutGauges } from '../telemetry/rollout-gauges.ts'
import { ticketKeysFor } from '../tls/fleet-ticket-keys.ts'
import type { TicketKeyRing } from '../tls/ticket-keys.ts'
import { Generations, sendTicketKeys } from './generations.ts'
import { metricsSum } from './metrics-sum.ts'
import { type RecordPublisher, recordPublisher } from './record-publisher.ts'
import { reloadWorkers } from './reload-workers.ts'
import { bucketHost } from './shared-ratelimit.ts'
import {
  listenAdmin,
  type Reloads,
  type SupervisorAdminDeps,
  type SupervisorStatus,
  supervisorAdmin,
} from './supervisor-admin.ts'
import { countersOf } from './supervisor-counters.ts'
import { logServing, warnStartOnly } from './supervisor-log.ts'
import { type SupervisorMetrics, supervisorMetrics } from './supervisor-metrics.ts'
import { type SupervisorSockets, socketTable, supervisorSockets } from './supervisor-sockets.ts'
import {
  type Counters,
  drainInto,
  type Predecessor,
  predecessor,
  type Successor,
  upgradeTo,
} from './upgrade.ts'
import { type WorkerReports, workerReports } from './worker-reports.ts'
import { workerRequests } from './worker-requests.ts'

/** How often the workers' scope counters are summed for the plan controller. */
const SUM_STATS_MS = 1000

export type { SupervisorStatus } from './supervisor-admin.ts'

function workerCount(config: Config): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers
}

export class Supervisor {
  #config: Config
  #log: Logger
  #metrics: SupervisorMetrics
  #rollout: RolloutService
  #gens: Generations
  #requests = workerRequests()
  #sum = metricsSum()
  #reports: WorkerReports
  #recordLog: RecordLog | undefined
  #records: RecordPublisher | undefined
  #admin: FastifyInstance | undefined
  /** Closes the admin API and the metrics listener; their sockets stay open for a successor. */
  #closeAdmin: () => Promise<void> = async () => {}
  #statsTimer: NodeJS.Timeout
  /** Session ticket keys for every worker's TLS listeners, when the config has any. */
  #ticketKeys: TicketKeyRing | undefined
  #reloads: Reloads = { reloads: 0, lastReload: undefined }
  /** The admin API's tokens: the main one first, then admin.tokens (read again at each reload). */
  #tokens: NamedToken[] = []
  #lastUpgrade: SupervisorStatus['lastUpgrade']
  #sockets: SupervisorSockets
  /** The supervisor this one replaces (`cutover upgrade`), until it has handed everything over. */
  #predecessor: Predecessor | undefined
  /** Whether this one drives plans: not while its predecessor still does. */
  #leading: { on: boolean }
  /** Settles once this supervisor has handed everything to its successor and drained. */
  #replaced: { promise: Promise<void>; resolve(): void } = Promise.withResolvers<void>()
  #stopping = false
  /** The operation running (reload, restart, stop): the next one waits for it. */
  #busy: Promise<void> = Promise.resolve()
  #stopped: Promise<void> | undefined

  /** Starts the rollout, the first generation and the admin API; resolves once all of it serves. */
  static async start(file: string, log: Logger): Promise<Supervisor> {
    const config = loadConfig(file)
    const before = await predecessor()
    const table = socketTable(config.workerAccept)
    for (const s of before?.sockets ?? systemdSockets(config)) table.adopt(s)
    const metrics = supervisorMetrics(() => table.all())
    const scopes = scopeListOf(config).all
    // Not while a predecessor still drives the plans.
    const leading = { on: before === undefined }
    const rollout = await startRollout(
      config,
      scopes,
      metrics.rolloutPercent,
      log,
      true,
      () => leading.on,
    )
    registerRolloutGauges(metrics.registry, {
      current: () => rollout.store.current(),
      judgement: (scope) => rollout.controller.judgement(scope),
    })
    const supervisor = new Supervisor(
      config,
      log,
      metrics,
      rollout,
      supervisorSockets(table, config.workerAccept, log),
      before,
      leading,
    )
    await supervisor.#begin()
    return supervisor
  }

  private constructor(
    config: Config,
    log: Logger,
    metrics: SupervisorMetrics,
    rollout: RolloutService,
    sockets: SupervisorSockets,
    before: Predecessor | undefined,
    leading: { on: boolean },
  ) {
    this.#config = config
    this.#log = log
    this.#metrics = metrics
    this.#rollout = rollout
    this.#sockets = sockets
    this.#predecessor = before
    this.#leading = leading
    this.#recordLog = config.dns ? openRecordLog(config.dns.records) : undefined
    this.#records = this.#recordLog && recordPublisher(this.#recordLog)
    this.#reports = workerReports({
      rollout,
      takeToken: bucketHost(),
      records: this.#records,
      sum: this.#sum,
      requests: this.#requests,
      metrics,
      log,
    })
    const reports = this.#reports
    this.#gens = new Generations({
      config,
      count: workerCount(config),
      log,
      message: reports.message,
      exited: (w) => reports.retire(w),
      crashed: () => metrics.crashes.inc(),
      ticketKeys: () => this.#ticketKeys?.current(),
      sockets,
      generationsBefore: before?.generation ?? 0,
    })
    this.#statsTimer = setInterval(() => this.#sumStats(), SUM_STATS_MS)
    this.#statsTimer.unref()
  }

  /** Workers re-read the config in place; refused, changing nothing here, if one cannot. */
  reload(): Promise<void> {
    return this.#serial(() => this.#reload())
  }

  /** Every live worker reopens its access and query log files (logrotate moved them). */
  reopenLogs(): void {
    for (const w of this.#gens.all()) if (w.worker.isConnected()) w.worker.process.kill('SIGUSR1')
  }

  /** A new generation; once all of it is ready, the old one drains. */
  restart(): Promise<void> {
    return this.#serial(() => this.#restart())
  }

  /**
   * A new supervisor from the code on disk takes over (`cutover upgrade`); this
   * one then drains and settles `replaced`. Throws when it cannot start now.
   */
  upgrade(): void {
    if (this.#stopping) throw new Error('the proxy is stopping or was replaced already')
    void this.#serial(() => this.#upgrade())
  }

  /** Settles once a successor serves everything and this supervisor's workers are gone. */
  get replaced(): Promise<void> {
    return this.#replaced.promise
  }

  /** Drains every worker, then closes the admin API, the rollout, the record log and the sockets. */
  stop(): Promise<void> {
    this.#stopped ??= this.#serial(async () => {
      this.#log.info({ generation: this.#gens.current }, 'stop: every worker drains now')
      this.#stopping = true
      this.#gens.stopping()
      await this.#gens.drain(this.#gens.current)
      await this.#closeAdmin()
      this.#sockets.close()
      await this.#release()
    })
    return this.#stopped
  }

  /** What outlives the workers: timers, the ticket keys, the rollout and the record log. */
  async #release(): Promise<void> {
    clearInterval(this.#statsTimer)
    this.#ticketKeys?.stop()
    await this.#rollout.stop()
    await this.#recordLog?.close()
  }

  async #begin(): Promise<void> {
    const before = this.#predecessor
    try {
      this.#ticketKeys = await ticketKeysFor(
        this.#config,
        this.#log,
        (keys) => sendTicketKeys(this.#gens.all(), keys),
        before?.ticketKey,
      )
      // Made before any worker starts, so no two processes create it at once.
      this.#tokens = loadNamedTokens(this.#config)
      await this.#gens.start()
      // A predecessor's socket for a listener this config no longer has.
      this.#sockets.prune(this.#gens.current)
      const adminDeps: SupervisorAdminDeps = {
        state: this.#config.state,
        tokens: () => this.#tokens,
        generations: this.#gens,
        requests: this.#requests,
        sum: this.#sum,
        metrics: this.#metrics,
        rollout: this.#rollout,
        records: this.#records,
        reloads: () => this.#reloads,
        lastUpgrade: () => this.#lastUpgrade,
        upgrade: () => this.upgrade(),
        stopping: () => this.#stopping,
      }
      this.#admin = supervisorAdmin(adminDeps)
      if (before) await this.#takeOver(before)
      this.#closeAdmin = await listenAdmin(
        this.#admin,
        adminDeps,
        this.#sockets.table,
        this.#config,
      )
    } catch (err) {
      before?.failed((err as Error).message)
      // The workers that did start would serve on without a supervisor that gave up.
      this.#gens.killAll()
      this.#ticketKeys?.stop()
      throw err
    }
    before?.serving()
    this.#predecessor = undefined
    const address = this.#admin?.server.address()
    logServing(
      this.#config,
      this.#gens.all()[0]?.ports ?? {},
      address,
      workerCount(this.#config),
      this.#log,
    )
  }

  /** Its workers ready, waits until the predecessor gave up the admin API and plans; takes its counters. */
  async #takeOver(before: Predecessor): Promise<void> {
    before.onConnection((m, socket) => this.#gens.passOn(m, socket))
    before.ready()
    const adopt = (c: Counters) => {
      this.#sum.predecessor(c.scopes, c.workers)
      this.#metrics.carry(c.own)
    }
    adopt(await before.released)
    before.onCounters(adopt)
    this.#leading.on = true
  }

  /** Everything this supervisor has counted, for its successor. */
  #counters(): Promise<Counters> {
    this.#sumStats()
    return countersOf(this.#gens, this.#requests, this.#sum, this.#rollout.scopes, this.#metrics)
  }

  async #upgrade(): Promise<void> {
    if (this.#stopping) return
    const at = Date.now()
    this.#log.info('upgrade: starting a new supervisor from the code on disk')
    const successor = await upgradeTo({
      configFile: this.#config.file,
      sockets: this.#sockets.table.all(),
      ticketKey: this.#ticketKeys?.current(),
      generation: this.#gens.current,
      counters: () => this.#counters(),
      lead: (on) => {
        this.#leading.on = on
      },
    })
    if ('error' in successor) {
      this.#lastUpgrade = { at, ok: false, error: successor.error }
      this.#log.error({ err: successor.error }, 'upgrade failed: this supervisor serves on')
      return
    }
    this.#lastUpgrade = { at, ok: true, pid: successor.pid }
    this.#log.info(
      { successor: successor.pid },
      'upgrade: the new supervisor serves; this one drains its workers and exits',
    )
    await this.#handOff(successor)
  }

  /** Drains this supervisor's workers into its successor's and sends it the counters, the last once they are gone. */
  async #handOff(successor: Successor): Promise<void> {
    this.#stopping = true
    this.#gens.stopping()
    await this.#closeAdmin()
    this.#sockets.stopDealing()
    await drainInto(successor, this.#gens, () => this.#counters())
    await this.#release()
    this.#replaced.resolve()
  }

  #serial(job: () => Promise<void>): Promise<void> {
    const run = this.#busy.then(job)
    this.#busy = run.catch(() => {})
    return run
  }

  async #restart(): Promise<void> {
    // Asked while a stop ran: its workers are gone, and no new ones may start.
    if (this.#stopping) {
      this.#log.info('restart not done: the proxy is stopping')
      return
    }
    const old = this.#gens.current
    warnStartOnly(this.#config, this.#log)
    try {
      await this.#gens.start()
    } catch (err) {
      this.#log.error(
        { err: (err as Error).message },
        'restart failed: the new generation did not start; the old one keeps serving',
      )
      return
    } finally {
      this.#sockets.prune(this.#gens.current)
    }
    await this.#gens.drain(old, true)
    this.#log.info({ generation: this.#gens.current }, 'restart done')
  }

  async #reload(): Promise<void> {
    if (this.#stopping) {
      this.#log.info('reload not done: the proxy is stopping')
      return
    }
    const live = this.#gens.ready()
    const result = await reloadWorkers(this.#config.file, live, this.#requests)
    if (result.ok) {
      this.#tokens = tokensOr(result.next, this.#tokens, this.#log)
      await this.#rollout.adopt(scopeListOf(result.next).all, result.next.rollout.notify)
      for (const w of live) this.#reports.applyServable(w)
    }
    this.#reloads = {
      reloads: this.#reloads.reloads + 1,
      lastReload: result.ok ? { ok: true } : { ok: false, error: result.error },
    }
    if (result.ok) this.#log.info({ workers: live.length }, 'reloaded')
    else
      this.#log.error(
        { err: result.error },
        `reload refused: ${result.why}; the old config keeps serving`,
      )
  }

  #sumStats(): void {
    this.#sum.sumStats(
      this.#rollout.scopes,
      this.#gens.all().map((w) => w.stats),
    )
  }
}
