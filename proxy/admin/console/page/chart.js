// A small line chart as inline SVG: no library, nothing to build.

import { h } from './dom.js'

const SVG = 'http://www.w3.org/2000/svg'
const W = 320
const H = 120

/** `series`: { name, color, value(point) } (null: no data there); `unit` formats the top of the scale. */
export function chart(title, points, series, unit) {
  const values = series.flatMap((s) => points.map(s.value).filter((v) => v !== null))
  const max = Math.max(1e-9, ...values)
  const t0 = points[0]?.t ?? 0
  const span = Math.max(1, (points.at(-1)?.t ?? 1) - t0)
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`)
  svg.setAttribute('preserveAspectRatio', 'none')
  for (const s of series) {
    const line = document.createElementNS(SVG, 'polyline')
    const coords = points
      .filter((p) => s.value(p) !== null)
      .map((p) => {
        const x = ((p.t - t0) / span) * W
        const y = H - (s.value(p) / max) * (H - 6)
        return `${x.toFixed(1)},${y.toFixed(1)}`
      })
    line.setAttribute('points', coords.join(' '))
    line.setAttribute('fill', 'none')
    line.setAttribute('stroke', s.color)
    line.setAttribute('stroke-width', '1.5')
    svg.append(line)
  }
  const legend = series.map((s) => h('span', { style: `color:${s.color}` }, s.name))
  return h(
    'div',
    { class: 'chart' },
    h('strong', {}, title),
    svg,
    h('div', { class: 'legend' }, legend, values.length ? ` max ${unit(max)}` : ' no data'),
  )
}
