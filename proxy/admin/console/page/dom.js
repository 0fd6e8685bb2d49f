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

export function say(text, error = false) {
  notice.textContent = text
  notice.className = error ? 'error' : ''
}

export const pct = (v) => (v === null || v === undefined ? null : `${(v * 100).toFixed(2)}%`)
export const num = (v, digits = 1) => (v === null || v === undefined ? null : v.toFixed(digits))
/** A cell that says "no data" when there is nothing under the figure. */
export const cell = (text) =>
  text === null ? h('td', { class: 'nodata' }, 'no data') : h('td', {}, text)

/** The signed-in session: its name, role and CSRF token. */
export const session = { current: undefined }

export async function api(method, path, body) {
  const headers = { 'x-csrf-token': session.current?.csrf ?? '' }
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

/** A gate reading in words; one with too few samples says "no data". */
export function gateText(g) {
  if (g.state === 'inconclusive') return `${g.gate} no data (${g.samples} samples)`
  if (g.state === 'not-applicable') return `${g.gate} no data (nothing compared)`
  const latency = g.gate === 'latency'
  const value = latency ? `${g.value.toFixed(2)}×` : pct(g.value)
  const limit = latency ? `${g.limit}×` : pct(g.limit)
  return `${g.gate} ${value} ${g.state === 'breached' ? '>' : '≤'} ${limit}`
}
