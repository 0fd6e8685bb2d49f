// The console's entry: signs in, follows the live state the admin listener
// streams (server-sent events) and shows the page the address names: the
// scopes (#/), one scope (#/scope/<id>), the diff runs (#/diffs) or the fleet (#/fleet).

import { api, cell, csrfToken, h, num, pct, reasonsText, say, session, table } from './dom.js'
import { scopePage } from './scope-page.js'

const main = document.getElementById('main')
const who = document.getElementById('who')
let live
let events
/** The page shown, kept while the address stays: its inputs survive each update. */
let shown = { route: '', update: () => {} }

function signIn(error) {
  events?.close()
  session.current = undefined
  csrfToken.set(undefined)
  shown = { route: '', update: () => {} }
  who.textContent = ''
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true })
  const submit = async (e) => {
    e.preventDefault()
    try {
      const signedIn = await api('POST', '/console/sign-in', { token: token.value })
      csrfToken.set(signedIn.csrf)
      session.current = signedIn
      start()
    } catch (err) {
      say(`Sign-in failed: ${err.message}`, true)
    }
  }
  main.replaceChildren(
    h(
      'section',
      { class: 'signin' },
      h('h2', {}, 'Sign in'),
      h('p', {}, 'With an admin token: the state folder’s admin-token, or one of admin.tokens.'),
      h(
        'form',
        { onsubmit: submit },
        h('label', {}, 'Admin token ', token),
        h('button', { type: 'submit' }, 'Sign in'),
      ),
    ),
  )
  if (error) say(error, true)
}

function start() {
  say('')
  const signOut = () => api('POST', '/console/sign-out').then(() => signIn())
  who.replaceChildren(
    `${session.current.name} (${session.current.role}) `,
    h('button', { type: 'button', onclick: signOut }, 'Sign out'),
  )
  events?.close()
  events = new EventSource('/console/events')
  events.addEventListener('state', (e) => {
    live = JSON.parse(e.data)
    render()
  })
  events.onerror = async () => {
    const s = await (await fetch('/console/session')).json()
    if (!s.signedIn) signIn('Signed out: sign in again.')
  }
}

function render() {
  if (!live) return
  const route = location.hash || '#/'
  if (route !== shown.route) {
    const [, page, ...rest] = route.split('/')
    const view =
      page === 'scope'
        ? scopePage(decodeURIComponent(rest.join('/')))
        : {
            el: h('div'),
            update: page === 'diffs' ? diffRuns() : page === 'fleet' ? fleet : scopes,
          }
    main.replaceChildren(view.el)
    shown = { route, update: (l) => view.update(l, view.el) }
  }
  shown.update(live)
}

function scopes(l, el) {
  const head = [
    'scope',
    'live %',
    'plan',
    'new req/s',
    'legacy req/s',
    'fallback',
    'fallback reasons',
    'errors new',
    'errors legacy',
    'p99 new ms',
    'p99 legacy ms',
    'mismatch',
  ]
  const row = (s) => {
    const r = l.rates[s.scope] ?? {}
    const plan = s.plan ? `${s.plan.status} step ${s.plan.step + 1}/${s.plan.steps.length}` : '—'
    return h(
      'tr',
      { 'data-scope': s.scope },
      h('td', {}, h('a', { href: `#/scope/${encodeURIComponent(s.scope)}` }, s.scope)),
      h('td', { class: 'percent' }, `${s.percent}%`),
      h('td', {}, plan),
      [
        num(r.newRps),
        num(r.legacyRps),
        pct(r.fallbackRate),
        reasonsText(l.readings.fallbacks[s.scope]),
        pct(r.newErrorRate),
        pct(r.legacyErrorRate),
      ].map(cell),
      [num(r.newP99Ms, 2), num(r.legacyP99Ms, 2), pct(r.mismatchRate)].map(cell),
    )
  }
  el.replaceChildren(
    h('section', {}, h('h2', {}, 'Scopes'), table(head, l.rollout.scopes.map(row))),
  )
}

/** The reports `cutover diff --upload` sent, newest first; read again every few seconds. */
function diffRuns() {
  let at = 0
  return (_l, el) => {
    if (Date.now() - at < 4000) return
    at = Date.now()
    showDiffRuns(el)
  }
}

function showDiffRuns(el) {
  const row = (r) =>
    h(
      'tr',
      { class: 'diff-run' },
      h(
        'td',
        {},
        h(
          'a',
          { href: `/diff-reports/${r.id}`, target: '_blank', rel: 'noopener' },
          new Date(r.at).toLocaleString(),
        ),
      ),
      h('td', {}, r.by),
      h('td', {}, r.suites.join(', ')),
      ['cases', 'match', 'mismatch', 'error'].map((k) =>
        h(
          'td',
          { class: (k === 'mismatch' || k === 'error') && r.totals[k] > 0 ? 'breached' : '' },
          String(r.totals[k] ?? 0),
        ),
      ),
    )
  api('GET', '/diff-reports')
    .then(({ reports }) =>
      el.replaceChildren(
        h(
          'section',
          {},
          h('h2', {}, 'Diff runs'),
          reports.length
            ? table(
                ['run', 'by', 'suites', 'cases', 'match', 'mismatch', 'error'],
                reports.map(row),
              )
            : h('p', {}, 'None yet: run cutover diff SUITE --upload.'),
        ),
      ),
    )
    .catch((err) => say(err.message, true))
}

function fleet(l, el) {
  const st = l.process.status
  const reload = st?.lastReload
    ? st.lastReload.ok
      ? 'ok'
      : `failed: ${st.lastReload.error}`
    : 'none'
  el.replaceChildren(
    h(
      'section',
      {},
      h('h2', {}, 'Process'),
      h(
        'p',
        {},
        l.process.notReady.length ? `Not ready: ${l.process.notReady.join('; ')}` : 'Ready.',
      ),
      l.process.warnings.map((w) => h('p', { class: 'breached' }, w)),
      h('p', {}, `Rollout store: ${l.rollout.store.ok ? 'ok' : l.rollout.store.detail}`),
      l.readings.recordLag
        ? h(
            'p',
            {},
            `Record changes: ${l.readings.recordLag.events} events, ${l.readings.recordLag.seconds.toFixed(1)} s behind`,
          )
        : null,
      l.readings.certificates.map((c) =>
        h(
          'p',
          { class: c.expiresInSeconds < 7 * 86400 ? 'breached certificate' : 'certificate' },
          `Certificate ${c.name}: expires in ${(c.expiresInSeconds / 86400).toFixed(1)} days`,
        ),
      ),
      st
        ? h(
            'p',
            {},
            `Generation ${st.generation}; reloads ${st.reloads ?? 0}, last: ${reload}; crashes ${st.crashes ?? 0}`,
          )
        : h('p', {}, 'One process, no workers.'),
    ),
    l.process.instances
      ? h(
          'section',
          {},
          h('h2', {}, 'Fleet (instances sharing the Redis state)'),
          table(
            ['host', 'pid', 'drives plans', 'last heard'],
            l.process.instances.map((i) => [
              i.host,
              i.pid,
              i.leading ? 'yes' : 'no',
              new Date(i.at).toLocaleTimeString(),
            ]),
            { class: 'instances' },
          ),
        )
      : '', // replaceChildren would show a null as text
    h(
      'section',
      {},
      h('h2', {}, 'Workers'),
      table(
        ['id', 'pid', 'generation', 'state', 'connections'],
        (st?.workers ?? []).map((w) => [w.id, w.pid, w.generation, w.state, w.connections]),
      ),
    ),
  )
}

window.addEventListener('hashchange', render)
api('GET', '/console/session').then((s) => {
  // A tab without the token sign-in gave (a new tab) signs in for itself.
  if (!s.signedIn || !csrfToken.get()) return signIn()
  session.current = s
  start()
})
