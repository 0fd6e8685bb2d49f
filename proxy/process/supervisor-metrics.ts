// The supervisor's own metrics, beside the workers' summed ones: the rollout
// percentages it drives, its workers by state, crashes and drains cut short.

import { Counter, Gauge, Registry } from 'prom-client'

export type SupervisorMetrics = ReturnType<typeof supervisorMetrics>

export function supervisorMetrics() {
  const registry = new Registry()
  return {
    registry,
    rolloutPercent: new Gauge({
      name: 'cutover_rollout_percent',
      help: "Share of a scope's traffic on the new path, in percent",
      labelNames: ['scope'],
      registers: [registry],
    }),
    workers: new Gauge({
      name: 'cutover_workers',
      help: 'Worker processes by state',
      labelNames: ['state'],
      registers: [registry],
    }),
    crashes: new Counter({
      name: 'cutover_worker_crashes_total',
      help: 'Workers that exited without being told to',
      registers: [registry],
    }),
    drainCut: new Counter({
      name: 'cutover_drain_cut_total',
      help: 'Requests and connections still in flight when a drain deadline ended them',
      registers: [registry],
    }),
  }
}
