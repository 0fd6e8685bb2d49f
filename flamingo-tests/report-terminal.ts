// The report for a terminal or a CI log: totals first, then each kind of mismatch
// with one example as a field-level diff and its replay commands, errors, expired
// suppressions, and a last line that says whether the run passed.

import type { CaseResult, DiffGroup, RunReport, Suppression } from './report-model.ts'
import {
  countBy,
  fieldDiffLines,
  formatDuration,
  formatRate,
  type Paint,
  PLAIN,
  printable,
} from './report-text.ts'

export interface TerminalOptions {
  /** ANSI colours (legacy red, candidate green); off for files and dumb terminals. */
  color: boolean
  /** Kinds of mismatch shown in full; the rest are listed by label. Default 20. */
  maxGroups?: number
  /** Errors shown; the rest are counted. Default 5. */
  maxErrors?: number
}

interface Style extends Paint {
  bold(s: string): string
  bad(s: string): string
  good(s: string): string
}

const sgr = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`

const COLOR: Style = {
  legacy: sgr(31),
  candidate: sgr(32),
  bold: sgr(1),
  bad: sgr(31),
  good: sgr(32),
}

const NO_COLOR: Style = { ...PLAIN, bold: (s) => s, bad: (s) => s, good: (s) => s }

/** The whole report as text, ending in a newline; no ANSI codes unless `color`. */
export function renderTerminal(report: RunReport, options: TerminalOptions): string {
  const style = options.color ? COLOR : NO_COLOR
  const lines = [
    ...header(report, style),
    ...totals(report, style),
    ...quiet(report),
    ...groups(report, style, options.maxGroups ?? 20),
    ...errors(report, style, options.maxErrors ?? 5),
    ...expired(report.expired, style),
    '',
    verdict(report, style),
  ]
  return `${lines.join('\n')}\n`
}

function header(report: RunReport, style: Style): string[] {
  const suites = report.suites.map(printable).join(', ') || '(no suites)'
  return [
    style.bold(`cutover diff: ${suites}`),
    `  legacy     ${printable(report.targets.legacy)}`,
    `  candidate  ${printable(report.targets.candidate)}`,
    `  started    ${printable(report.startedAt)}`,
    '',
  ]
}

function totals(report: RunReport, style: Style): string[] {
  const t = report.totals
  const rows: [string, string, ((s: string) => string)?][] = [
    ['cases', String(t.cases)],
    ['matching', String(t.match)],
    ['mismatching', String(t.mismatch), t.mismatch > 0 ? style.bad : undefined],
    ['errors', String(t.error), t.error > 0 ? style.bad : undefined],
    ['noisy', String(t.noisy)],
    ['suppressed', String(t.suppressed)],
    ['duration', formatDuration(report.durationMs)],
    ['cases/s', formatRate(t.cases, report.durationMs)],
  ]
  const width = Math.max(...rows.map((r) => r[1].length))
  return rows.map(([name, value, paint]) => {
    const padded = value.padStart(width)
    return `  ${name.padEnd(13)}${paint ? paint(padded) : padded}`
  })
}

/** One line each for the noise and the suppressed diffs, by field: what was left out. */
function quiet(report: RunReport): string[] {
  const noise = countBy(
    report.results.flatMap((r) => r.noise),
    (d) => d.field,
  )
  const suppressed = countBy(
    report.results.flatMap((r) => r.suppressed),
    (s) => `${s.diff.field} (${s.by.who})`,
  )
  const list = (counts: [string, number][]) =>
    counts
      .slice(0, 8)
      .map(([k, n]) => `${printable(k)} ×${n}`)
      .join(', ') + (counts.length > 8 ? `, … ${counts.length - 8} more` : '')
  const out: string[] = []
  if (noise.length > 0) out.push(`  noise (legacy differs from itself, ignored): ${list(noise)}`)
  if (suppressed.length > 0) out.push(`  suppressed: ${list(suppressed)}`)
  return out.length > 0 ? ['', ...out] : []
}

function groups(report: RunReport, style: Style, max: number): string[] {
  if (report.groups.length === 0) return []
  const out = ['', style.bold(`Mismatches by what differs (${report.groups.length})`)]
  for (const g of report.groups.slice(0, max)) out.push('', ...group(g, style))
  const rest = report.groups.slice(max)
  if (rest.length > 0) {
    out.push(
      '',
      `  … ${rest.length} more: ${rest.map((g) => `${printable(g.label)} ×${g.count}`).join(', ')}`,
    )
  }
  return out
}

function group(g: DiffGroup, style: Style): string[] {
  const ex = g.example
  const own = ex.diffs.filter((d) => d.field === g.field)
  const others = [...new Set(ex.diffs.filter((d) => d.field !== g.field).map((d) => d.field))]
  const out = [
    `  ${style.bad('✗')} ${style.bold(`${printable(g.label)} ×${g.count}`)}  (${printable(g.field)})`,
    `    example: ${printable(ex.id)}`,
    ...fieldDiffLines(own, style, '      '),
  ]
  if (others.length > 0) out.push(`      also differs: ${others.map(printable).join(', ')}`)
  out.push(...replay(ex, '    '))
  return out
}

function replay(r: CaseResult, indent: string): string[] {
  return [
    `${indent}replay legacy:    ${printable(r.replay.legacy)}`,
    `${indent}replay candidate: ${printable(r.replay.candidate)}`,
  ]
}

function errors(report: RunReport, style: Style, max: number): string[] {
  const failed = report.results.filter((r) => r.outcome === 'error')
  if (failed.length === 0) return []
  const out = ['', style.bold(`Errors (${failed.length})`)]
  for (const r of failed.slice(0, max)) {
    out.push(
      `  ${style.bad('!')} ${printable(r.id)}: ${printable(r.error ?? 'no message')}`,
      ...replay(r, '    '),
    )
  }
  if (failed.length > max) out.push(`  … ${failed.length - max} more errors`)
  return out
}

function expired(list: readonly Suppression[], style: Style): string[] {
  if (list.length === 0) return []
  return [
    '',
    style.bold(`Expired suppressions (${list.length}): they fail the run until renewed or removed`),
    ...list.map(
      (s) =>
        `  ${style.bad('✗')} ${printable(s.field)}${s.case ? ` for cases ${printable(s.case)}` : ''}` +
        `  expired ${printable(s.expires)}  by ${printable(s.who)}: ${printable(s.why)}`,
    ),
  ]
}

function verdict(report: RunReport, style: Style): string {
  const t = report.totals
  const problems = [
    t.mismatch > 0 ? `${t.mismatch} of ${t.cases} cases mismatching` : '',
    t.error > 0 ? `${t.error} ${t.error === 1 ? 'error' : 'errors'}` : '',
    report.expired.length > 0
      ? `${report.expired.length} expired ${report.expired.length === 1 ? 'suppression' : 'suppressions'}`
      : '',
  ].filter(Boolean)
  if (problems.length > 0) return `${style.bad('FAIL')}  ${problems.join(', ')}`
  return `${style.good('PASS')}  all ${t.cases} cases match`
}
