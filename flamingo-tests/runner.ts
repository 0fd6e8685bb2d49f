// Runs suites against the legacy and the candidate: every case goes to the
// legacy twice (fields that differ between those two are noise, as Diffy
// separates regressions from non-determinism) and to the candidate once; the
// rest is compared field by field, minus what a suppression accepts. Cases run
// concurrently under a bound. A target that is down stops the run as an error.

import { CutoverError } from '../common/cutover-error.ts'
import { decodeMessage } from '../dns/message.ts'
import { compareDns, describeDns, type FieldDiff } from './dns-compare.ts'
import { compareHttp, describeHttp } from './http-compare.ts'
import { curlCommand, digCommand } from './replay.ts'
import {
  type CaseResult,
  groupDiffs,
  type RunReport,
  type Suppression,
  totalsOf,
} from './report-model.ts'
import { type DnsCase, dnsCaseId, type HttpCase, httpCaseId, type Suite } from './suite.ts'
import { isExpired, suppressionFor } from './suppress.ts'
import { queryFor, type Target } from './targets.ts'

export interface RunOptions {
  concurrency: number
  suppressions: readonly Suppression[]
  onCase?: (result: CaseResult) => void
  now?: Date
}

type Job =
  | { kind: 'dns'; suite: Extract<Suite, { kind: 'dns' }>; c: DnsCase }
  | { kind: 'http'; suite: Extract<Suite, { kind: 'http' }>; c: HttpCase }

const NO_FIELDS: ReadonlySet<string> = new Set()

/** Two DNS messages with the same bytes after the ID. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.compare(b, 2, b.length, 2, a.length) === 0
}

/** What every case of one run is sent to and judged by. */
interface Run {
  legacy: Target
  candidate: Target
  o: RunOptions
  now: Date
}

/** What every result of one case carries, whatever its outcome. */
interface CaseFrame {
  id: string
  kind: CaseResult['kind']
  replay: CaseResult['replay']
  started: number
}

/**
 * The result of a compared case: differences split into real ones, noise (the
 * fields in `noisy`) and suppressed ones.
 */
function judged(
  run: Run,
  f: CaseFrame,
  diffs: FieldDiff[],
  noisy: ReadonlySet<string>,
  sides: { legacy: string; candidate: string },
): CaseResult {
  const real: FieldDiff[] = []
  const noise: FieldDiff[] = []
  const suppressed: CaseResult['suppressed'] = []
  for (const d of diffs) {
    if (noisy.has(d.field)) {
      noise.push(d)
      continue
    }
    const by = suppressionFor(run.o.suppressions, f.id, d, run.now)
    if (by) suppressed.push({ diff: d, by })
    else real.push(d)
  }
  return {
    id: f.id,
    kind: f.kind,
    outcome: real.length > 0 ? 'mismatch' : 'match',
    diffs: real,
    noise,
    suppressed,
    replay: f.replay,
    ...sides,
    durationMs: performance.now() - f.started,
  }
}

/** The result of a case that could not be compared. */
function failed(f: CaseFrame, err: unknown): CaseResult {
  return {
    id: f.id,
    kind: f.kind,
    outcome: 'error',
    diffs: [],
    noise: [],
    suppressed: [],
    replay: f.replay,
    error: (err as Error).message,
    durationMs: performance.now() - f.started,
  }
}

async function runDns(run: Run, job: Extract<Job, { kind: 'dns' }>): Promise<CaseResult> {
  const { legacy, candidate } = run
  const { c, suite } = job
  const query = queryFor(c, Math.floor(Math.random() * 0x10000))
  const frame: CaseFrame = {
    id: dnsCaseId(c),
    kind: 'dns',
    replay: {
      legacy: digCommand(c, legacy.spec, query),
      candidate: digCommand(c, candidate.spec, query),
    },
    started: performance.now(),
  }
  try {
    const [a, b, cand] = await Promise.all([
      legacy.dns(c, query),
      legacy.dns(c, query),
      candidate.dns(c, query),
    ])
    const options = { ttlTolerance: suite.ttlTolerance, ignore: c.allow }
    const la = decodeMessage(a)
    // The same bytes (past the ID) say the same thing: no need to decode and compare them.
    if (sameBytes(a, cand)) {
      const text = describeDns(la)
      return judged(run, frame, [], NO_FIELDS, { legacy: text, candidate: text })
    }
    const noisy = sameBytes(a, b)
      ? NO_FIELDS
      : new Set(compareDns(la, decodeMessage(b), options).map((d) => d.field))
    const lc = decodeMessage(cand)
    return judged(run, frame, compareDns(la, lc, options), noisy, {
      legacy: describeDns(la),
      candidate: describeDns(lc),
    })
  } catch (err) {
    return failed(frame, err)
  }
}

async function runHttp(run: Run, job: Extract<Job, { kind: 'http' }>): Promise<CaseResult> {
  const { legacy, candidate } = run
  const { c, suite } = job
  const frame: CaseFrame = {
    id: httpCaseId(c),
    kind: 'http',
    replay: { legacy: curlCommand(c, legacy.spec), candidate: curlCommand(c, candidate.spec) },
    started: performance.now(),
  }
  try {
    const [a, b, cand] = await Promise.all([legacy.http(c), legacy.http(c), candidate.http(c)])
    const options = { ignoreHeaders: suite.ignoreHeaders, ignore: c.ignore, body: c.compareBody }
    const noisy = new Set(compareHttp(a, b, options).map((d) => d.field))
    return judged(run, frame, compareHttp(a, cand, options), noisy, {
      legacy: describeHttp(a),
      candidate: describeHttp(cand),
    })
  } catch (err) {
    return failed(frame, err)
  }
}

export async function runSuites(
  suites: readonly Suite[],
  legacy: Target,
  candidate: Target,
  o: RunOptions,
): Promise<RunReport> {
  const now = o.now ?? new Date()
  const run: Run = { legacy, candidate, o, now }
  const jobs: Job[] = suites.flatMap((suite): Job[] =>
    suite.kind === 'dns'
      ? suite.cases.map((c) => ({ kind: 'dns', suite, c }))
      : suite.cases.map((c) => ({ kind: 'http', suite, c })),
  )
  const startedAt = new Date()
  const started = performance.now()
  const results: CaseResult[] = new Array(jobs.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < jobs.length; i = next++) {
      const job = jobs[i]
      const r = job.kind === 'dns' ? await runDns(run, job) : await runHttp(run, job)
      results[i] = r
      o.onCase?.(r)
    }
  }
  await Promise.all(Array.from({ length: Math.min(o.concurrency, jobs.length) }, worker))
  return {
    suites: suites.map((s) => s.file),
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - started,
    targets: { legacy: legacy.spec.label, candidate: candidate.spec.label },
    totals: totalsOf(results),
    groups: groupDiffs(results),
    expired: o.suppressions.filter((s) => isExpired(s, now)),
    results,
  }
}

/** Sends one request to each target before the run: a target that is down is an error, not a run of mismatches. */
export async function checkReachable(t: Target, suites: readonly Suite[]): Promise<void> {
  const dns = suites.find((s) => s.kind === 'dns')
  const http = suites.find((s) => s.kind === 'http')
  try {
    if (dns?.kind === 'dns') await t.dns(dns.cases[0], queryFor(dns.cases[0], 1))
    if (http?.kind === 'http') await t.http(http.cases[0])
  } catch (err) {
    throw new CutoverError(
      'UPSTREAM_UNREACHABLE',
      `${t.spec.label} does not answer (${(err as Error).message}); is it running?`,
    )
  }
}
