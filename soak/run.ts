// `npm run soak -- 10m`: the soak run for that long (s, m or h; 10m by
// default), sampling every minute; exits 1 naming what failed.

import { runSoak } from './soak.ts'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 }

function durationOf(text: string): number {
  const m = /^(\d+)([smh])$/.exec(text)
  if (!m) {
    process.stderr.write(`soak: expected a duration like 60s, 10m or 1h, got '${text}'\n`)
    process.exit(2)
  }
  return Number(m[1]) * UNITS[m[2]]
}

const durationMs = durationOf(process.argv[2] ?? '10m')
const result = await runSoak({
  durationMs,
  sampleMs: Math.min(60_000, durationMs / 6),
  log: (line) => process.stdout.write(`soak: ${line}\n`),
})
if (result.failures.length > 0) {
  for (const f of result.failures) process.stderr.write(`soak failed: ${f}\n`)
  process.exit(1)
}
process.stdout.write('soak: passed\n')
