// What the plan controller sees, as gauges an SRE can alert on: each running
// plan's step, and each gate's reading beside its limit. A gate without enough
// samples has no reading series at all, so an alert on it sees "no data",
// never a reassuring 0.

import { Gauge, type Registry } from 'prom-client'
import type { GateReading, Judgement } from '../../rollout/gates.ts'
import type { RolloutState } from '../../rollout/state.ts'

/** What the gauges read from the rollout, at each scrape. */
export interface RolloutView {
  current(): RolloutState
  judgement(scope: string): Judgement | undefined
}

export function registerRolloutGauges(registry: Registry, rollout: RolloutView): void {
  new Gauge({
    name: 'cutover_rollout_plan_step',
    help: 'Step of the running plan of a scope, counted from 1; 0 with no plan running',
    labelNames: ['scope'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [scope, s] of Object.entries(rollout.current().scopes))
        this.set({ scope }, s.plan?.status === 'running' ? s.plan.step + 1 : 0)
    },
  })
  const readings = () =>
    Object.keys(rollout.current().scopes).flatMap((scope) =>
      (rollout.judgement(scope)?.readings ?? [])
        .filter((r) => r.state === 'ok' || r.state === 'breached')
        .map((r) => ({ scope, r })),
    )
  const gates = [
    [
      'cutover_rollout_gate_value',
      "A running plan's gate reading over its step so far (a rate, or the latency ratio); absent while it has too few samples",
      (r: GateReading) => r.value,
    ],
    [
      'cutover_rollout_gate_limit',
      'The limit a gate reading is held to (rollout.gates); over it, the plan rolls back',
      (r: GateReading) => r.limit,
    ],
  ] as const
  for (const [name, help, pick] of gates)
    new Gauge({
      name,
      help,
      labelNames: ['scope', 'gate'],
      registers: [registry],
      collect() {
        this.reset()
        for (const { scope, r } of readings()) this.set({ scope, gate: r.gate }, pick(r))
      },
    })
}
