// A plan gate's reading as `cutover rollout status` prints it: a value and
// ok or breached only where it rests on enough samples; otherwise "no data",
// and why, never a reassuring 0.00% ok.

import type { GateReading } from '../rollout/gates.ts'

export function readingText(r: GateReading): string {
  if (r.state === 'not-applicable')
    return `${r.gate} no data (${r.gate === 'latency' ? 'no legacy traffic to compare with' : 'nothing shadowed'})`
  if (r.state === 'inconclusive') return `${r.gate} no data (${r.samples} samples so far)`
  const value = r.gate === 'latency' ? `${r.value.toFixed(2)}x` : `${(r.value * 100).toFixed(2)}%`
  return `${r.gate} ${value} ${r.state}`
}
