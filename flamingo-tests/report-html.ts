// The report as one self-contained HTML page: totals, each kind of mismatch
// expandable (<details>, no script) to an example shown side by side, replay
// commands, errors and expired suppressions. Every value is escaped; a CSP forbids loads.

import type { FieldDiff } from './dns-compare.ts'
import type { CaseResult, DiffGroup, RunReport, Suppression } from './report-model.ts'
import { countBy, formatDuration, formatRate } from './report-text.ts'
import { alignLines, type Piece, wordDiff } from './text-diff.ts'

const SAFE = Symbol('html')

/** Markup that is already safe; anything else put into `h` is escaped. */
interface Html {
  readonly [SAFE]: string
}

const ESC: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** `s` safe in element text and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c])
}

function piece(v: unknown): string {
  if (v === undefined || v === null || v === false) return ''
  if (Array.isArray(v)) return v.map(piece).join('')
  if (typeof v === 'object' && SAFE in v) return (v as Html)[SAFE]
  return escapeHtml(String(v))
}

/** A template whose interpolations are escaped unless they are Html (arrays are joined). */
function h(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1]
  return { [SAFE]: out }
}

/** Most cases listed under a group, and most errors listed. */
const MAX_LISTED = 200

/** The page, a complete HTML document. */
export function renderHtml(report: RunReport): string {
  const failed = report.totals.mismatch > 0 || report.totals.error > 0 || report.expired.length > 0
  const verdict = failed ? 'FAIL' : 'PASS'
  const title = `cutover diff ${verdict}: ${report.suites.join(', ')}`
  const page = h`<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${{ [SAFE]: CSS }}</style>
</head>
<body>
<header>
<h1>cutover diff <span class="verdict ${verdict.toLowerCase()}">${verdict}</span></h1>
<p class="meta">suites <b>${report.suites.join(', ')}</b> · legacy <b>${report.targets.legacy}</b> · candidate <b>${report.targets.candidate}</b> · started ${report.startedAt}</p>
</header>
<main>
${totals(report)}
${groups(report)}
${errors(report.results)}
${expired(report.expired)}
${quiet(report.results)}
</main>
</body>
</html>`
  return `<!doctype html>\n${page[SAFE]}\n`
}

function totals(report: RunReport): Html {
  const t = report.totals
  const items: [string, string, string][] = [
    ['cases', String(t.cases), ''],
    ['matching', String(t.match), t.match === t.cases ? 'good' : ''],
    ['mismatching', String(t.mismatch), t.mismatch > 0 ? 'bad' : ''],
    ['errors', String(t.error), t.error > 0 ? 'bad' : ''],
    ['noisy', String(t.noisy), ''],
    ['suppressed', String(t.suppressed), ''],
    ['duration', formatDuration(report.durationMs), ''],
    ['cases/s', formatRate(t.cases, report.durationMs), ''],
  ]
  return h`<section class="totals" aria-label="totals">${items.map(
    ([name, value, cls]) =>
      h`<div class="total ${cls}"><span class="value">${value}</span><span class="name">${name}</span></div>`,
  )}</section>`
}

function groups(report: RunReport): Html {
  if (report.groups.length === 0) {
    return h`<section id="mismatches"><h2>Mismatches</h2><p class="none">No mismatches.</p></section>`
  }
  return h`<section id="mismatches">
<h2>Mismatches by what differs (${report.groups.length})</h2>
${report.groups.map((g) => group(g, report))}
</section>`
}

function group(g: DiffGroup, report: RunReport): Html {
  const ex = g.example
  const cases = report.results.filter(
    (r) => r.outcome === 'mismatch' && r.diffs.some((d) => d.field === g.field),
  )
  return h`<details class="group">
<summary><span class="label">${g.label}</span> <span class="count">×${g.count}</span> <code class="field">${g.field}</code></summary>
<div class="body">
<p class="example-id">example <span class="kind">${ex.kind}</span> <code>${ex.id}</code></p>
${fieldTable(ex.diffs, g.field)}
${sideBySide(ex, report.targets)}
${replay(ex)}
${caseList(cases)}
</div>
</details>`
}

/** The example's diffs; the group's own field highlighted, the case's other differences dimmer. */
function fieldTable(diffs: readonly FieldDiff[], field: string): Html {
  return h`<table class="fields">
<thead><tr><th>field</th><th>legacy</th><th>candidate</th></tr></thead>
<tbody>${diffs.map(
    (d) =>
      h`<tr class="${d.field === field ? 'hit' : 'other'}"><td><code>${d.field}</code></td><td class="legacy">${d.legacy}</td><td class="candidate">${d.candidate}</td></tr>`,
  )}</tbody>
</table>`
}

function sideBySide(r: CaseResult, targets: RunReport['targets']): Html {
  if (r.legacy === undefined && r.candidate === undefined) {
    return h`<p class="none">No response text recorded for this case.</p>`
  }
  const rows = alignLines(lines(r.legacy), lines(r.candidate))
  return h`<table class="side-by-side">
<thead><tr><th>legacy <small>${targets.legacy}</small></th><th>candidate <small>${targets.candidate}</small></th></tr></thead>
<tbody>${rows.map((row) => {
    if (row.same) {
      return h`<tr class="same"><td class="legacy">${row.legacy}</td><td class="candidate">${row.candidate}</td></tr>`
    }
    const [l, c] =
      row.legacy !== undefined && row.candidate !== undefined
        ? wordDiff(row.legacy, row.candidate).map(marks)
        : [row.legacy ?? '', row.candidate ?? '']
    return h`<tr class="changed"><td class="legacy">${l}</td><td class="candidate">${c}</td></tr>`
  })}</tbody>
</table>`
}

function marks(pieces: Piece[]): Html {
  return h`${pieces.map((p) => (p.changed ? h`<mark>${p.text}</mark>` : p.text))}`
}

function lines(text: string | undefined): string[] {
  return text === undefined ? ['(no response)'] : text.split(/\r?\n/)
}

function replay(r: CaseResult): Html {
  return h`<div class="replay"><h4>replay</h4>
<pre><span class="side">legacy    </span>${r.replay.legacy}
<span class="side">candidate </span>${r.replay.candidate}</pre></div>`
}

function caseList(cases: readonly CaseResult[]): Html {
  const shown = cases.slice(0, MAX_LISTED)
  const more = cases.length - shown.length
  return h`<details class="cases"><summary>cases (${cases.length})</summary>
<ul>${shown.map((r) => h`<li><code>${r.id}</code></li>`)}</ul>${more > 0 ? h`<p>… ${more} more</p>` : ''}
</details>`
}

function errors(results: readonly CaseResult[]): Html {
  const failed = results.filter((r) => r.outcome === 'error')
  if (failed.length === 0) return h``
  const shown = failed.slice(0, MAX_LISTED)
  return h`<section id="errors">
<h2>Errors (${failed.length})</h2>
<table class="list">
<thead><tr><th>case</th><th>error</th><th>replay</th></tr></thead>
<tbody>${shown.map(
    (r) =>
      h`<tr><td><span class="kind">${r.kind}</span> <code>${r.id}</code></td><td class="bad">${r.error ?? 'no message'}</td><td><pre>${r.replay.legacy}
${r.replay.candidate}</pre></td></tr>`,
  )}</tbody>
</table>${failed.length > shown.length ? h`<p>… ${failed.length - shown.length} more</p>` : ''}
</section>`
}

function expired(list: readonly Suppression[]): Html {
  if (list.length === 0) return h``
  return h`<section id="expired">
<h2>Expired suppressions (${list.length})</h2>
<p>They fail the run until they are renewed or removed.</p>
<table class="list">
<thead><tr><th>field</th><th>cases</th><th>who</th><th>why</th><th>expired</th></tr></thead>
<tbody>${list.map(
    (s) =>
      h`<tr><td><code>${s.field}</code></td><td><code>${s.case ?? 'all'}</code></td><td>${s.who}</td><td>${s.why}</td><td class="bad">${s.expires}</td></tr>`,
  )}</tbody>
</table>
</section>`
}

/** What did not fail the run: fields where the legacy differed from itself, and suppressed diffs. */
function quiet(results: readonly CaseResult[]): Html {
  const noise = countBy(
    results.flatMap((r) => r.noise),
    (d) => d.field,
  )
  const suppressed = new Map<string, { by: Suppression; field: string; count: number }>()
  for (const s of results.flatMap((r) => r.suppressed)) {
    const key = JSON.stringify([s.diff.field, s.by.field, s.by.case, s.by.who, s.by.expires])
    const seen = suppressed.get(key)
    if (seen) seen.count++
    else suppressed.set(key, { by: s.by, field: s.diff.field, count: 1 })
  }
  if (noise.length === 0 && suppressed.size === 0) return h``
  return h`<section id="quiet">
<h2>Left out</h2>
${
  noise.length > 0
    ? h`<h3>Noise: the legacy differed from itself</h3>
<table class="list"><thead><tr><th>field</th><th>cases</th></tr></thead>
<tbody>${noise.map(([field, n]) => h`<tr><td><code>${field}</code></td><td>${n}</td></tr>`)}</tbody></table>`
    : ''
}
${
  suppressed.size > 0
    ? h`<h3>Suppressed</h3>
<table class="list"><thead><tr><th>field</th><th>cases</th><th>who</th><th>why</th><th>until</th></tr></thead>
<tbody>${[...suppressed.values()].map(
        (s) =>
          h`<tr><td><code>${s.field}</code></td><td>${s.count}</td><td>${s.by.who}</td><td>${s.by.why}</td><td>${s.by.expires}</td></tr>`,
      )}</tbody></table>`
    : ''
}
</section>`
}

const CSS = `
:root { color-scheme: light dark; --bad: #c62828; --good: #2e7d32; --del: #fdecea; --ins: #e8f5e9;
  --del-mark: #f5b7b1; --ins-mark: #a9dfbf; --line: #8883; --muted: #777; font: 14px/1.45 system-ui, sans-serif; }
@media (prefers-color-scheme: dark) { :root { --del: #4a1c1c; --ins: #17361b; --del-mark: #8e2b2b; --ins-mark: #2e6b36; --bad: #ef9a9a; --good: #a5d6a7; } }
body { margin: 0 auto; max-width: 1400px; padding: 1rem 2rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); }
h3, h4 { font-size: 1rem; margin: 1rem 0 .25rem; }
code, pre, td.legacy, td.candidate { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
pre { margin: 0; white-space: pre-wrap; word-break: break-all; }
.meta { color: var(--muted); }
.verdict { padding: 0 .5rem; border-radius: 4px; color: #fff; }
.verdict.fail { background: var(--bad); } .verdict.pass { background: var(--good); }
.totals { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: 1rem; }
.total { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .8rem; min-width: 6rem; }
.total .value { display: block; font-size: 1.3rem; font-weight: 600; }
.total .name { color: var(--muted); }
.bad, .total.bad .value { color: var(--bad); } .good, .total.good .value { color: var(--good); }
details.group { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; }
details.group > summary { cursor: pointer; padding: .5rem .75rem; font-weight: 600; }
details.group > summary .count { color: var(--bad); }
details.group > summary .field { font-weight: normal; color: var(--muted); }
details.group > .body { padding: 0 .75rem .75rem; }
.kind { text-transform: uppercase; font-size: 11px; border: 1px solid var(--line); border-radius: 3px; padding: 0 .25rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.legacy, td.candidate { white-space: pre-wrap; word-break: break-all; width: 50%; height: 1.2em; }
mark { color: inherit; border-radius: 2px; }
td.legacy mark { background: var(--del-mark); } td.candidate mark { background: var(--ins-mark); }
table.fields td.legacy, table.fields td.candidate { width: auto; }
tr.hit td.legacy, tr.changed td.legacy { background: var(--del); }
tr.hit td.candidate, tr.changed td.candidate { background: var(--ins); }
tr.other { opacity: .7; }
.side { color: var(--muted); }
.none { color: var(--muted); }
`
