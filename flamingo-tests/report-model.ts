// What a differential run produces, for every report format: one result per
// case (its field-level differences, the noise, what was suppressed, how to
// replay it) and the mismatches grouped by what differs.

import type { FieldDiff } from './dns-compare.ts'

export type Outcome = 'match' | 'mismatch' | 'error'

export interface Suppression {
  /** The field (or field prefix) it accepts, e.g. `answer.ttl` or `header.server`. */
  field: string
  /** Glob over case ids it applies to; all cases when absent. */
  case?: string
  who: string
  why: string
  /** ISO date; past it, the suppression no longer applies and the run fails. */
  expires: string
}

export interface CaseResult {
  /** A readable, unique id: `www.example.com A udp edns=1232`, `GET www.example.com/path`. */
  id: string
  kind: 'dns' | 'http'
  outcome: Outcome
  /** Real differences: not noise, not suppressed. */
  diffs: FieldDiff[]
  /** Fields that differed between two answers of the legacy itself. */
  noise: FieldDiff[]
  /** Differences accepted by a suppression. */
  suppressed: { diff: FieldDiff; by: Suppression }[]
  /** Commands to replay the case by hand against each target. */
  replay: { legacy: string; candidate: string }
  /** Each side's response as text, for side-by-side views. */
  legacy?: string
  candidate?: string
  /** Why the case could not be compared (a target down, a timeout). */
  error?: string
  durationMs: number
}

export interface DiffGroup {
  /** The field that differs, e.g. `answer.ttl`. */
  field: string
  /** What a person reads, e.g. "TTL in answer". */
  label: string
  count: number
  /** One case showing it. */
  example: CaseResult
}

export interface RunReport {
  suites: string[]
  startedAt: string
  durationMs: number
  targets: { legacy: string; candidate: string }
  totals: {
    cases: number
    match: number
    mismatch: number
    error: number
    noisy: number
    suppressed: number
  }
  groups: DiffGroup[]
  /** Suppressions past their expiry date: they fail the run until renewed or removed. */
  expired: Suppression[]
  results: CaseResult[]
}

const SECTION_LABELS: Record<string, string> = {
  answer: 'answer',
  authority: 'authority',
  additional: 'additional',
}

/** A field name for people: `answer.ttl` → "TTL in answer", `header.cache-control` → "header cache-control". */
export function fieldLabel(field: string): string {
  const dot = field.indexOf('.')
  const head = dot < 0 ? field : field.slice(0, dot)
  const rest = dot < 0 ? '' : field.slice(dot + 1)
  if (head in SECTION_LABELS) {
    const what = rest === 'ttl' ? 'TTL' : rest === 'rdata' ? 'record data' : 'records'
    return `${what} in ${SECTION_LABELS[head]}`
  }
  if (head === 'flags') return `${rest.toUpperCase()} flag`
  if (head === 'header') return `header ${rest}`
  if (head === 'edns') return rest === 'udpSize' ? 'EDNS UDP size' : 'EDNS presence'
  return field
}

/** Groups the mismatching cases by each field that differs, largest group first. */
/** Cases by outcome; `noisy` and `suppressed` count cases, not fields. */
export function totalsOf(results: readonly CaseResult[]): RunReport['totals'] {
  const count = (o: CaseResult['outcome']) => results.filter((r) => r.outcome === o).length
  return {
    cases: results.length,
    match: count('match'),
    mismatch: count('mismatch'),
    error: count('error'),
    noisy: results.filter((r) => r.noise.length > 0).length,
    suppressed: results.filter((r) => r.suppressed.length > 0).length,
  }
}

export function groupDiffs(results: readonly CaseResult[]): DiffGroup[] {
  const groups = new Map<string, DiffGroup>()
  for (const r of results) {
    if (r.outcome !== 'mismatch') continue
    for (const field of new Set(r.diffs.map((d) => d.field))) {
      const g = groups.get(field)
      if (g) g.count++
      else groups.set(field, { field, label: fieldLabel(field), count: 1, example: r })
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.field.localeCompare(b.field))
}
