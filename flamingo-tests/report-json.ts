// The report as JSON for machines and archives: pretty, and stable, so the same
// report always gives the same bytes: keys in the model's order, unknown keys after, sorted.

import type { FieldDiff } from './dns-compare.ts'
import type { CaseResult, DiffGroup, RunReport, Suppression } from './report-model.ts'

const REPORT = [
  'suites',
  'startedAt',
  'durationMs',
  'targets',
  'totals',
  'groups',
  'expired',
  'results',
]
const TARGETS = ['legacy', 'candidate']
const TOTALS = ['cases', 'match', 'mismatch', 'error', 'noisy', 'suppressed']
const GROUP = ['field', 'label', 'count', 'example']
const CASE = [
  'id',
  'kind',
  'outcome',
  'error',
  'durationMs',
  'diffs',
  'noise',
  'suppressed',
  'replay',
  'legacy',
  'candidate',
]
const DIFF = ['field', 'legacy', 'candidate']
const SUPPRESSION = ['field', 'case', 'who', 'why', 'expires']

/** The report as indented JSON ending in a newline; `JSON.parse` gives the report back. */
export function renderJson(report: RunReport): string {
  return `${JSON.stringify(orderReport(report), null, 2)}\n`
}

function orderReport(r: RunReport): object {
  return ordered(r, REPORT, {
    targets: (v) => ordered(v, TARGETS),
    totals: (v) => ordered(v, TOTALS),
    groups: (v) => (v as DiffGroup[]).map(orderGroup),
    expired: (v) => (v as Suppression[]).map(orderSuppression),
    results: (v) => (v as CaseResult[]).map(orderCase),
  })
}

function orderGroup(g: DiffGroup): object {
  return ordered(g, GROUP, { example: (v) => orderCase(v as CaseResult) })
}

function orderCase(c: CaseResult): object {
  return ordered(c, CASE, {
    diffs: (v) => (v as FieldDiff[]).map(orderDiff),
    noise: (v) => (v as FieldDiff[]).map(orderDiff),
    suppressed: (v) =>
      (v as CaseResult['suppressed']).map((s) =>
        ordered(s, ['diff', 'by'], {
          diff: (d) => orderDiff(d as FieldDiff),
          by: (b) => orderSuppression(b as Suppression),
        }),
      ),
    replay: (v) => ordered(v, TARGETS),
  })
}

function orderDiff(d: FieldDiff): object {
  return ordered(d, DIFF)
}

function orderSuppression(s: Suppression): object {
  return ordered(s, SUPPRESSION)
}

/** A copy of `value` with `keys` first in that order, then any other keys sorted; nested values mapped by `inner`, or sorted. */
function ordered(
  value: unknown,
  keys: readonly string[],
  inner: Record<string, (v: unknown) => unknown> = {},
): object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value as object
  const source = value as Record<string, unknown>
  const rest = Object.keys(source)
    .filter((k) => !keys.includes(k))
    .sort()
  const out: Record<string, unknown> = {}
  for (const k of [...keys, ...rest]) {
    if (!(k in source) || source[k] === undefined) continue
    out[k] = inner[k] ? inner[k](source[k]) : sortedDeep(source[k])
  }
  return out
}

/** Unknown structures: arrays kept in order, object keys sorted, `toJSON` objects (dates) as they are. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep)
  if (value === null || typeof value !== 'object') return value
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value
  return ordered(value, [])
}
