// The soak run in CI: 60 s of it, with a restart every 20 s and a reload
// every 10 s, sampled every 10 s (`npm run soak -- 10m` runs the long one).

import { expect, it } from 'vitest'
import { runSoak } from './soak.ts'

it('60 s of mixed DNS, HTTP and WebSocket load through restarts, reloads and record events: nothing lost, no growth', async () => {
  const lines: string[] = []
  const result = await runSoak({ durationMs: 60_000, sampleMs: 10_000, log: (l) => lines.push(l) })
  expect(result.failures, lines.join('\n')).toEqual([])
  expect(result.samples.length).toBeGreaterThanOrEqual(6)
}, 240_000)
