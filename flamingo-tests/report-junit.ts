// The report as JUnit XML for CI test views: one testcase per case (a failure
// with the field-level diff for a mismatch, an error for an error), and one
// failing testcase per expired suppression, since those fail the run too.

import {
  type CaseResult,
  type DiffGroup,
  fieldLabel,
  type RunReport,
  type Suppression,
} from './report-model.ts'
import { fieldDiffLines, printable } from './report-text.ts'

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
}

// Characters XML 1.0 cannot hold at all, even as references: most C0 controls,
// lone surrogates (the u flag keeps pairs whole), U+FFFE and U+FFFF.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to replace
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/gu

function visible(c: string): string {
  const code = c.charCodeAt(0)
  return code < 0x100
    ? `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`
    : `\\u${code.toString(16).toUpperCase()}`
}

/** `s` for an attribute value: markup characters and whitespace as references, invalid characters as visible escapes. */
export function xmlAttr(s: string): string {
  return s.replace(INVALID, visible).replace(/[&<>"'\t\n\r]/g, (c) => ENTITIES[c])
}

/** `s` for element text: markup characters and CR as references (parsers keep tabs and LFs in text). */
export function xmlText(s: string): string {
  return s.replace(INVALID, visible).replace(/[&<>\r]/g, (c) => ENTITIES[c])
}

const seconds = (ms: number) => (Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0).toFixed(3)

/** The whole report as a JUnit XML document with one testsuite for the run. */
export function renderJunit(report: RunReport): string {
  const failures =
    report.results.filter((r) => r.outcome === 'mismatch').length + report.expired.length
  const errors = report.results.filter((r) => r.outcome === 'error').length
  const tests = report.results.length + report.expired.length
  const counts =
    `tests="${tests}" failures="${failures}" errors="${errors}" skipped="0" ` +
    `time="${seconds(report.durationMs)}" timestamp="${xmlAttr(report.startedAt)}"`
  const name = report.suites.join(', ') || 'cutover diff'
  const rank = new Map(report.groups.map((g, i) => [g.field, i]))
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cutover diff" ${counts}>`,
    `  <testsuite name="${xmlAttr(name)}" ${counts}>`,
    '    <properties>',
    `      <property name="suites" value="${xmlAttr(report.suites.join(' '))}"/>`,
    `      <property name="legacy" value="${xmlAttr(report.targets.legacy)}"/>`,
    `      <property name="candidate" value="${xmlAttr(report.targets.candidate)}"/>`,
    '    </properties>',
    ...report.results.map((r) => testcase(r, report.groups, rank)),
    ...report.expired.map(expiredCase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

/**
 * `kind.group`: for a mismatch the field of the largest group it is in (so CI views
 * bucket cases as the terminal report does); `match` or `error` otherwise.
 */
function classname(r: CaseResult, groups: readonly DiffGroup[], rank: Map<string, number>): string {
  if (r.outcome !== 'mismatch') return `${r.kind}.${r.outcome}`
  let best = r.diffs[0]?.field ?? 'mismatch'
  for (const d of r.diffs) {
    if ((rank.get(d.field) ?? groups.length) < (rank.get(best) ?? groups.length)) best = d.field
  }
  return `${r.kind}.${best}`
}

function testcase(r: CaseResult, groups: readonly DiffGroup[], rank: Map<string, number>): string {
  const open =
    `    <testcase classname="${xmlAttr(classname(r, groups, rank))}" ` +
    `name="${xmlAttr(r.id)}" time="${seconds(r.durationMs)}"`
  const body: string[] = []
  if (r.outcome === 'mismatch') {
    const labels = [...new Set(r.diffs.map((d) => fieldLabel(d.field)))].join(', ')
    const text = [...fieldDiffLines(r.diffs), '', ...replay(r)].join('\n')
    body.push(
      `      <failure type="mismatch" message="${xmlAttr(`differs: ${labels}`)}">${xmlText(text)}</failure>`,
    )
  } else if (r.outcome === 'error') {
    const message = r.error ?? 'no message'
    body.push(
      `      <error type="error" message="${xmlAttr(message)}">${xmlText([message, '', ...replay(r)].join('\n'))}</error>`,
    )
  }
  const notes = quietNotes(r)
  if (notes.length > 0) body.push(`      <system-out>${xmlText(notes.join('\n'))}</system-out>`)
  return body.length === 0 ? `${open}/>` : [`${open}>`, ...body, '    </testcase>'].join('\n')
}

function replay(r: CaseResult): string[] {
  return [`replay legacy:    ${r.replay.legacy}`, `replay candidate: ${r.replay.candidate}`]
}

/** What did not fail the case but a reader may want: noise and suppressed diffs. */
function quietNotes(r: CaseResult): string[] {
  return [
    ...r.noise.map((d) => `noise: ${d.field}: ${printable(d.legacy)} | ${printable(d.candidate)}`),
    ...r.suppressed.map(
      (s) =>
        `suppressed: ${s.diff.field}: ${printable(s.diff.legacy)} | ${printable(s.diff.candidate)} ` +
        `(by ${s.by.who} until ${s.by.expires}: ${s.by.why})`,
    ),
  ]
}

function expiredCase(s: Suppression): string {
  const name = `${s.field}${s.case ? ` for cases ${s.case}` : ''}`
  const text = `who: ${s.who}\nwhy: ${s.why}\nexpired: ${s.expires}\nRenew it or remove it.`
  return [
    `    <testcase classname="suppressions.expired" name="${xmlAttr(name)}" time="0.000">`,
    `      <failure type="expired-suppression" message="${xmlAttr(`suppression by ${s.who} expired ${s.expires}`)}">${xmlText(text)}</failure>`,
    '    </testcase>',
  ].join('\n')
}
