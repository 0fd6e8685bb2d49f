// What the workers report, each handed to the supervisor's part that keeps it:
// readiness to the rollout, tokens to the shared buckets, record outcomes to
// the publisher, final counters to the sums, replies to their requests.

import type { RolloutService } from '../../rollout/service.ts'
import type { Logger } from '../telemetry/log.ts'
import { sendTo, type WorkerState } from './generations.ts'
import type { FromWorker } from './ipc.ts'
import type { MetricsSum } from './metrics-sum.ts'
import type { RecordPublisher } from './record-publisher.ts'
import type { TakeAnswer, TakeRequest } from './shared-ratelimit.ts'
import type { SupervisorMetrics } from './supervisor-metrics.ts'
import type { WorkerRequests } from './worker-requests.ts'

export interface ReportParts {
  rollout: RolloutService
  takeToken(m: TakeRequest): TakeAnswer
  records: RecordPublisher | undefined
  sum: MetricsSum
  requests: WorkerRequests
  metrics: SupervisorMetrics
  log: Logger
}

export interface WorkerReports {
  message(w: WorkerState, m: FromWorker): void
  /** Keeps a leaving worker's counters in the sums; it no longer answers for them. */
  retire(w: WorkerState, metrics?: unknown): void
  /** The new path's reach, as a worker last reported it, onto the scopes the rollout state is applied to. */
  applyServable(w: WorkerState): void
}

export function workerReports(p: ReportParts): WorkerReports {
  const retire = (w: WorkerState, metrics?: unknown) => {
    p.sum.retire(w.stats, metrics)
    w.stats = {}
  }
  const applyServable = (w: WorkerState) => {
    for (const s of w.servable) {
      const scope = p.rollout.scopes.get(s.id)
      if (scope) scope.servable = s.servable
    }
    p.rollout.reapply()
  }
  return {
    retire,
    applyServable,
    message(w, m) {
      switch (m.type) {
        case 'ready':
          applyServable(w)
          break
        case 'take':
          sendTo(w, p.takeToken(m))
          break
        case 'record-outcome':
          p.records?.applied(w.worker.id, m.id, m.outcome)
          break
        case 'drained':
          retire(w, m.metrics)
          if (m.cut > 0) {
            p.metrics.drainCut.inc(m.cut)
            p.log.warn({ worker: w.worker.id, cut: m.cut }, 'drain deadline cut requests in flight')
          }
          break
        case 'reloaded':
        case 'metrics':
        case 'shadow':
          p.requests.answered(m)
          break
      }
    },
  }
}
