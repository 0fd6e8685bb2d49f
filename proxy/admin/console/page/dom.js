// Small helpers the console's pages share: building elements (text is always
// set as text, never parsed as HTML), the notice line, figures that say
// "no data" when nothing is under them, and calls to the admin API.

const notice = document.getElementById('notice')

/** An element: `h('td', { class: 'x' }, 'text', child)`; `on...` attributes are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    // Through the CSSOM: the page's CSP refuses style attributes.
    else if (k === 'style') el.style.cssText = v
    else if (v !== undefined && v !== false) el.setAttribute(k, v === true ? '' : v)
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c)
  return el
}

/** A table: a header row of `heads`, then `rows` (rows made elsewhere, or arrays of plain values). */
export function table(heads, rows, attrs = {}) {
  const row = (r) =>
    Array.isArray(r)
      ? h(
          'tr',
          {},
          r.map((v) => h('td', {}, String(v))),
        )
      : r
  return h(
    'table',
    attrs,
    h(
      'tr',
      {},
      heads.map((t) => h('th', {}, t)),
    ),
    rows.map(row),
  )
}

export function say(text, error = false) {
  notice.textContent = text
  notice.className = error ? 'error' : ''
}

export const pct = (v) => (v === null || v === undefined ? null : `${(v * 100).toFixed(2)}%`)
export const num = (v, digits = 1) => (v === null || v === undefined ? null : v.toFixed(digits))
/** A cell that says "no data" when there is nothing under the figure. */
export const cell = (text) =>
  text === null ? h('td', { class: 'nodata' }, 'no data') : h('td', {}, text)

/**
 * The signed-in session: its name and role, and the CSRF token sign-in gave
 * this tab (kept in sessionStorage: the server hands it out at sign-in only).
 */
export const session = { current: undefined }
const CSRF_KEY = 'cutover-csrf'
export const csrfToken = {
  get: () => sessionStorage.getItem(CSRF_KEY),
  set: (token) =>
    token ? sessionStorage.setItem(CSRF_KEY, token) : sessionStorage.removeItem(CSRF_KEY),
}

export async function api(method, path, body) {
  const headers = { 'x-csrf-token': csrfToken.get() ?? '' }
  // Without a body, no content type: the API refuses an empty JSON body.
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const data = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(data.error ?? `${res.status}`)
  return data
}

/** A scope's fallbacks by reason since start, most first: "module-error 12, unserved 3". */
export function reasonsText(byReason) {
  const entries = Object.entries(byReason ?? {}).sort((a, b) => b[1] - a[1])
  return entries.length ? entries.map(([reason, n]) => `${reason} ${n}`).join(', ') : 'none'
}

/** A gate reading in words; one with too few samples says "no data". */
export function gateText(g) {
  if (g.state === 'inconclusive') return `${g.gate} no data (${g.samples} samples)`
  if (g.state === 'not-applicable') return `${g.gate} no data (nothing compared)`
  const latency = g.gate === 'latency'
  // A p99 past the last latency bucket is infinite, and JSON carries it as null.
  const finite = typeof g.value === 'number' && Number.isFinite(g.value)
  const value = !finite ? '∞' : latency ? `${g.value.toFixed(2)}×` : pct(g.value)
  const limit = latency ? `${g.limit}×` : pct(g.limit)
  return `${g.gate} ${value} ${g.state === 'breached' ? '>' : '≤'} ${limit}`
}
