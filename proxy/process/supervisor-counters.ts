// Everything a supervisor has counted, as it hands it to the supervisor that
// replaces it (`cutover upgrade`): its workers' metrics (those gone summed in),
// its scope counters, and its own counters.

import type { ScopeSet } from '../../rollout/scopes.ts'
import type { Generations } from './generations.ts'
import { toWire } from './ipc.ts'
import type { MetricsSum } from './metrics-sum.ts'
import { askWorkers } from './supervisor-admin.ts'
import type { SupervisorMetrics } from './supervisor-metrics.ts'
import type { Counters } from './upgrade.ts'
import type { WorkerRequests } from './worker-requests.ts'

export async function countersOf(
  gens: Generations,
  requests: WorkerRequests,
  sum: MetricsSum,
  scopes: ScopeSet,
  metrics: SupervisorMetrics,
): Promise<Counters> {
  const replies = await askWorkers(gens, requests, { type: 'metrics' })
  return {
    workers: await sum.json(() => replies.filter((r) => !r.w.drained).map((r) => r.reply.metrics)),
    scopes: Object.fromEntries([...scopes].map(([id, scope]) => [id, toWire(scope.stats)])),
    own: await metrics.registry.getMetricsAsJSON(),
  }
}
