// One scope's page: its live percentage and plan (steps, bake, the gate
// readings), the controls (for an operator's session), the last hour's
// charts, the shadow differences and the history. Built once when opened; the
// live state then updates its parts in place, so nothing typed is lost.

import { chart } from './chart.js'
import { api, gateText, h, pct, reasonsText, say, session, table } from './dom.js'

const EXTRAS_EVERY_MS = 4000
/** A raise of more than this many points asks for a confirmation first. */
const CONFIRM_ABOVE = 25

export function scopePage(id) {
  let latest
  const percent = h('span', { class: 'percent' })
  const plan = h('div')
  const fallbacks = h('p', { class: 'fallback-reasons' })
  const charts = h('div', { class: 'charts' })
  const shadow = h('section')
  const history = h('table', { class: 'history' })
  const el = h(
    'div',
    {},
    h(
      'section',
      {},
      h('h2', {}, `${id}: `, percent, ' on the new path'),
      plan,
      fallbacks,
      controls(id, () => latest),
    ),
    h('section', {}, h('h2', {}, 'Last hour'), charts),
    shadow,
    h('section', {}, h('h2', {}, 'History'), history),
  )
  let extrasAt = 0
  const refreshExtras = async () => {
    const q = encodeURIComponent(id)
    const [past, series, compared] = await Promise.all([
      api('GET', `/history?scope=${q}&limit=50`),
      api('GET', `/console/series/${q}`),
      api('GET', `/shadow/${q}`),
    ])
    history.replaceChildren(...past.entries.reverse().map(historyRow))
    charts.replaceChildren(...chartsOf(series.points))
    shadow.replaceChildren(...shadowView(compared))
  }
  return {
    el,
    update(live) {
      latest = live.rollout.scopes.find((s) => s.scope === id)
      if (!latest) return el.replaceChildren(h('p', {}, `No scope ${id}.`))
      percent.textContent = `${latest.percent}%`
      plan.replaceChildren(planView(latest))
      fallbacks.textContent = `Fallbacks to the legacy since start: ${reasonsText(live.readings.fallbacks[id])}`
      if (Date.now() - extrasAt >= EXTRAS_EVERY_MS) {
        extrasAt = Date.now()
        refreshExtras().catch((err) => say(err.message, true))
      }
    },
  }
}

function historyRow(e) {
  const gates = e.gates ? ` [${e.gates.map(gateText).join('; ')}]` : ''
  return h(
    'tr',
    { class: `history-${e.action}` },
    h('td', {}, new Date(e.at).toLocaleString()),
    h('td', {}, e.by),
    h('td', {}, e.action),
    h('td', {}, `${e.from / 100}% → ${e.to / 100}%`),
    h('td', { class: 'why' }, e.why, gates),
  )
}

function planView(s) {
  const p = s.plan
  if (!p) return h('p', { class: 'plan-status' }, 'No plan.')
  const steps = p.steps.map((v, i) =>
    h('span', { class: i < p.step ? 'done' : i === p.step ? 'current' : '' }, `${v}%`),
  )
  const baked = Math.min(1, (Date.now() - p.stepStartedAt) / Math.max(1, p.bakeMs))
  const readings = s.gates?.readings ?? []
  const state = (g) => (g.state === 'breached' ? 'breached' : g.state === 'ok' ? 'ok' : '')
  return h(
    'div',
    { class: 'plan' },
    h(
      'p',
      { class: 'plan-status' },
      `Plan ${p.status}, step ${p.step + 1} of ${p.steps.length}${p.note ? `: ${p.note}` : ''}`,
    ),
    h('div', { class: 'steps' }, steps),
    p.status === 'running'
      ? h(
          'div',
          { class: 'bar', title: 'bake' },
          h('div', { style: `width:${(baked * 100).toFixed(0)}%` }),
        )
      : null,
    h(
      'ul',
      { class: 'gates' },
      readings.map((g) => h('li', { class: state(g) }, gateText(g))),
    ),
  )
}

function controls(id, latest) {
  if (session.current?.role !== 'operator')
    return h('p', {}, 'Read only: this token is a viewer’s.')
  const reason = h('input', { name: 'reason', placeholder: 'reason (required)', size: 30 })
  const percent = h('input', { name: 'percent', type: 'number', min: 0, max: 100, step: 0.01 })
  const steps = h('input', { name: 'steps', value: '1,5,25,50,100', size: 16 })
  const bake = h('input', { name: 'bake', value: '10m', size: 5 })
  const confirmBox = h('div')
  const act = async (what, method, body) => {
    if (!reason.value.trim()) return say('Say why: a reason is required.', true)
    try {
      await api(method, `/rollout/${encodeURIComponent(id)}`, {
        ...body,
        reason: reason.value.trim(),
      })
      say(`${what}: done.`)
      confirmBox.replaceChildren()
    } catch (err) {
      say(`${what} refused: ${err.message}`, true)
    }
  }
  const setPercent = (e) => {
    e.preventDefault()
    const from = latest()?.percent ?? 0
    const to = Number(percent.value)
    const set = () => act(`Set ${id} to ${to}%`, 'PUT', { percent: to })
    if (to - from <= CONFIRM_ABOVE) return set()
    confirmBox.replaceChildren(
      h(
        'div',
        { class: 'confirm' },
        `A jump of ${(to - from).toFixed(2)} points, from ${from}% to ${to}%. `,
        h('button', { type: 'button', name: 'confirm', onclick: set }, 'Confirm'),
        h('button', { type: 'button', onclick: () => confirmBox.replaceChildren() }, 'Cancel'),
      ),
    )
  }
  const plan = (e) => {
    e.preventDefault()
    act('Plan', 'POST', {
      action: 'plan',
      steps: steps.value.split(',').map(Number),
      bake: bake.value,
    })
  }
  const button = (action) =>
    h(
      'button',
      { type: 'button', name: action, onclick: () => act(action, 'POST', { action }) },
      action,
    )
  return h(
    'div',
    {},
    h('form', { onsubmit: (e) => e.preventDefault() }, h('label', {}, 'Reason ', reason)),
    h(
      'form',
      { onsubmit: setPercent },
      h('label', {}, 'Percent ', percent),
      h('button', { type: 'submit', name: 'set' }, 'Set'),
    ),
    confirmBox,
    h(
      'form',
      { onsubmit: plan },
      h('label', {}, 'Steps ', steps),
      h('label', {}, 'Bake ', bake),
      h('button', { type: 'submit', name: 'plan' }, 'Start plan'),
    ),
    h(
      'form',
      { onsubmit: (e) => e.preventDefault() },
      ['pause', 'resume', 'promote', 'abort'].map(button),
    ),
  )
}

/** A series per path of the figure `key` of each point (newRps, legacyRps...). */
const paths = (figure, withFallback = false) =>
  [
    { name: 'new', color: 'var(--new)', value: (p) => p[`new${figure}`] },
    { name: 'legacy', color: 'var(--legacy)', value: (p) => p[`legacy${figure}`] },
    withFallback && {
      name: 'fallback',
      color: 'var(--fallback)',
      value: (p) => p[`fallback${figure}`],
    },
  ].filter(Boolean)

function chartsOf(points) {
  const fixed = (v) => v.toFixed(2)
  const mismatches = [{ name: 'mismatch rate', color: 'var(--bad)', value: (p) => p.mismatchRate }]
  return [
    chart('Requests/s', points, paths('Rps', true), fixed),
    chart('Error rate', points, paths('ErrorRate'), pct),
    chart('p99 ms', points, paths('P99Ms'), fixed),
    chart('Shadow mismatches', points, mismatches, pct),
  ]
}

/** The fields that differ (rates) and the last examples: each field's two values, then both answers side by side. */
function shadowView(s) {
  if (s.shadowPercent === 0) return [h('h2', {}, 'Shadow'), h('p', {}, 'Not shadowed.')]
  const field = (f) =>
    h(
      'tr',
      { class: f.regression ? 'breached' : '' },
      [f.field, pct(f.mismatchRate), pct(f.noiseRate), f.regression ? 'differs' : 'noise'].map(
        (v) => h('td', {}, v),
      ),
    )
  const example = (ex) =>
    h(
      'div',
      { class: 'example' },
      h(
        'p',
        {},
        `${ex.id} at ${ex.at}: `,
        ex.diffs.map((d) => `${d.field}: ${d.legacy} → ${d.candidate}`).join('; '),
      ),
      h(
        'div',
        { class: 'pair' },
        h('pre', {}, `legacy\n${ex.legacy}`),
        h('pre', {}, `new path\n${ex.candidate}`),
      ),
    )
  return [
    h('h2', {}, `Shadow (${s.shadowPercent}%): ${s.mismatches} of ${s.compared} compared differed`),
    table(['field', 'differs', 'noise', ''], s.fields.map(field)),
    ...s.examples.slice(-5).map(example),
  ]
}
