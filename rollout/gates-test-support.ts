// The gate limits the rollout tests judge by: the thresholds their expected
// reasons quote (100 samples, 1% errors, 5% fallbacks, 1.5× latency, 0.1% mismatches).

import type { GateLimits } from './gates.ts'

export const limits: GateLimits = {
  minSamples: 100,
  maxErrorRate: 0.01,
  maxFallbackRate: 0.05,
  maxLatencyRatio: 1.5,
  maxMismatchRate: 0.001,
}
