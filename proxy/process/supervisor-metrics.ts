// The supervisor's own metrics, beside the workers' summed ones: the rollout
// percentages it drives, its workers by state, crashes, drains cut short, and
// the queries the kernel dropped at the UDP sockets it holds.

import { Counter, Gauge, Registry } from 'prom-client'
import type { ListenSocket } from '../net/listen-sockets.ts'
import { registerUdpDrops } from '../net/udp-drops.ts'

export type SupervisorMetrics = ReturnType<typeof supervisorMetrics>

/** Sums of one counter in prom-client's JSON (its values have no labels here). */
function counterIn(json: unknown, name: string): number {
  const metric = (json as { name: string; values: { value: number }[] }[]).find(
    (m) => m.name === name,
  )
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0
}

/** `sockets`: the listening sockets it holds. */
export function supervisorMetrics(sockets: () => readonly ListenSocket[]) {
  const registry = new Registry()
  registerUdpDrops(registry, sockets)
  /** What has been added from a replaced supervisor's counters so far, by counter. */
  const carried = new Map<string, number>()
  const counters = {
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
  return {
    registry,
    ...counters,
    /**
     * Adds the counters of the supervisor this one replaced (`cutover upgrade`),
     * as it sent them (prom-client's JSON); each call adds what grew since the last.
     */
    carry(own: unknown): void {
      for (const counter of [counters.crashes, counters.drainCut]) {
        const name = (counter as unknown as { name: string }).name
        const total = counterIn(own, name)
        counter.inc(Math.max(0, total - (carried.get(name) ?? 0)))
        carried.set(name, Math.max(total, carried.get(name) ?? 0))
      }
    },
  }
}
