// Plan gates: whether a step may advance, judged on the scope's counters over
// its bake window. A gate with too few samples is inconclusive and holds the
// step: no traffic never advances a plan and never rolls it back.

import { quantile } from './latency.ts'
import type { ScopeStats } from './scope.ts'

export interface GateLimits {
  minSamples: number
  maxErrorRate: number
  maxFallbackRate: number
  /** p99 of the new path over p99 of the legacy path. */
  maxLatencyRatio: number
  maxMismatchRate: number
}

export interface GateReading {
  gate: 'error-rate' | 'fallback-rate' | 'latency' | 'mismatch-rate'
  value: number
  limit: number
  samples: number
  state: 'ok' | 'breached' | 'inconclusive' | 'not-applicable'
}

export type Judgement =
  | { kind: 'pass'; readings: GateReading[] }
  | { kind: 'hold'; readings: GateReading[]; why: string }
  | { kind: 'breach'; readings: GateReading[]; why: string }

/** Counters over a window: `now` minus `then`, field by field. */
export function windowOf(now: ScopeStats, then: ScopeStats): ScopeStats {
  const sub = (a: Float64Array, b: Float64Array) => a.map((v, i) => v - b[i])
  return {
    newRequests: now.newRequests - then.newRequests,
    newErrors: now.newErrors - then.newErrors,
    fallbacks: now.fallbacks - then.fallbacks,
    legacyRequests: now.legacyRequests - then.legacyRequests,
    legacyErrors: now.legacyErrors - then.legacyErrors,
    newLatency: sub(now.newLatency, then.newLatency),
    legacyLatency: sub(now.legacyLatency, then.legacyLatency),
    shadowed: now.shadowed - then.shadowed,
    mismatches: now.mismatches - then.mismatches,
  }
}

function rate(
  gate: GateReading['gate'],
  bad: number,
  samples: number,
  limit: number,
  min: number,
): GateReading {
  const value = samples > 0 ? bad / samples : 0
  const state = samples < min ? 'inconclusive' : value > limit ? 'breached' : 'ok'
  return { gate, value, limit, samples, state }
}

export function judge(w: ScopeStats, limits: GateLimits): Judgement {
  const attempts = w.newRequests + w.fallbacks
  const newP99 = quantile(w.newLatency, 0.99)
  const legacyP99 = quantile(w.legacyLatency, 0.99)
  const legacySamples = w.legacyRequests
  const latency: GateReading = {
    gate: 'latency',
    value: newP99 / legacyP99,
    limit: limits.maxLatencyRatio,
    samples: Math.min(w.newRequests, legacySamples),
    // At 100% nothing is left on the legacy to compare with: the gate does not apply.
    state:
      legacySamples === 0
        ? 'not-applicable'
        : Math.min(w.newRequests, legacySamples) < limits.minSamples
          ? 'inconclusive'
          : newP99 / legacyP99 > limits.maxLatencyRatio
            ? 'breached'
            : 'ok',
  }
  // Without shadow traffic nothing was compared: the gate does not apply, and never reads "ok".
  const mismatch =
    w.shadowed === 0
      ? {
          ...rate('mismatch-rate', 0, 0, limits.maxMismatchRate, 0),
          state: 'not-applicable' as const,
        }
      : rate('mismatch-rate', w.mismatches, w.shadowed, limits.maxMismatchRate, limits.minSamples)
  const readings = [
    rate('error-rate', w.newErrors, w.newRequests, limits.maxErrorRate, limits.minSamples),
    rate('fallback-rate', w.fallbacks, attempts, limits.maxFallbackRate, limits.minSamples),
    latency,
    mismatch,
  ]
  const breached = readings.filter((r) => r.state === 'breached')
  if (breached.length > 0) {
    return {
      kind: 'breach',
      readings,
      why: breached
        .map((r) => `${r.gate} ${format(r)} over ${r.limit} (${r.samples} samples)`)
        .join('; '),
    }
  }
  const waiting = readings.filter((r) => r.state === 'inconclusive')
  if (waiting.length > 0) {
    return {
      kind: 'hold',
      readings,
      why: `inconclusive: ${waiting.map((r) => `${r.gate} has ${r.samples} of ${limits.minSamples} samples`).join('; ')}`,
    }
  }
  return { kind: 'pass', readings }
}

function format(r: GateReading): string {
  return r.gate === 'latency' ? `${r.value.toFixed(2)}×` : `${(r.value * 100).toFixed(2)}%`
}
