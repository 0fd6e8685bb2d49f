// Strict reads of one metric for tests, from a prom-client registry or from
// /metrics text: a renamed metric or label fails the test instead of reading 0.

import type { Registry } from 'prom-client'

/** One metric as a test sees it: its samples (a histogram's are its `_count`s) and label names. */
export interface MetricFamily {
  name: string
  type: string
  labelNames: readonly string[]
  samples: { labels: Record<string, string>; value: number }[]
}

/**
 * The value of metric `name` over the samples whose labels include `labels`.
 * Throws when the metric is not there or lacks one of the label names.
 * A counter or histogram (its observation count) is summed over the matching
 * samples, 0 when none was counted; a gauge needs exactly one matching sample,
 * since a gauge never set has no value to assert and gauges do not add up.
 */
export function sampleOf(
  families: readonly MetricFamily[],
  name: string,
  labels: Record<string, string>,
): number {
  const family = families.find((f) => f.name === name)
  if (!family) {
    const known = [...new Set(families.map((f) => f.name).filter((n) => n.startsWith('cutover_')))]
    throw new Error(`no metric ${name}; the cutover metrics are: ${known.sort().join(', ')}`)
  }
  const unknown = Object.keys(labels).filter((l) => !family.labelNames.includes(l))
  if (unknown.length > 0) {
    throw new Error(
      `metric ${name} has no label ${unknown.join(', ')}; its labels are: ${family.labelNames.join(', ') || '(none)'}`,
    )
  }
  const want = Object.entries(labels)
  const matching = family.samples.filter((s) => want.every(([k, v]) => s.labels[k] === v))
  if (family.type !== 'gauge') return matching.reduce((n, s) => n + s.value, 0)
  if (matching.length !== 1) {
    throw new Error(
      `gauge ${name}${JSON.stringify(labels)} has ${matching.length} values, not one (${family.samples.length} in all)`,
    )
  }
  return matching[0].value
}

/** The families of an in-process registry, with the label names each metric was made with. */
export async function familiesOfRegistry(registry: Registry): Promise<MetricFamily[]> {
  return (await registry.getMetricsAsJSON()).map((m) => {
    const type = String(m.type)
    const own = `${m.name}${type === 'histogram' || type === 'summary' ? '_count' : ''}`
    const samples = m.values
      .filter((v) => ((v as { metricName?: string }).metricName ?? m.name) === own)
      .map((v) => ({
        labels: Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])),
        value: v.value,
      }))
    // prom-client's metrics keep the label names they were made with; ours
    // (HotHistogram) that do not are known by the labels of their samples.
    const declared = (registry.getSingleMetric(m.name) as { labelNames?: unknown }).labelNames
    const labelNames = Array.isArray(declared) ? declared.map(String) : labelsSeen(samples)
    return { name: m.name, type, labelNames, samples }
  })
}

/**
 * The families in Prometheus text (several scrapes may be joined: a family met
 * again gains the samples). The text does not carry label names, so a family's
 * are those seen in its samples: a labelled counter that never counted has no
 * samples, hence no known labels, and can only be read with no labels at all.
 */
export function familiesOfText(text: string): MetricFamily[] {
  const families = new Map<string, MetricFamily>()
  let current: MetricFamily | undefined
  let own = ''
  for (const line of text.split('\n')) {
    const typed = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (typed) {
      const [, name, type] = typed
      current = families.get(name) ?? { name, type, labelNames: [], samples: [] }
      families.set(name, current)
      own = `${name}${type === 'histogram' || type === 'summary' ? '_count' : ''}`
      continue
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line)
    if (!current || !sample || sample[1] !== own) continue
    const labels = Object.fromEntries(
      [...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [
        l[1],
        l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)),
      ]),
    )
    current.samples.push({ labels, value: Number(sample[3].replace('Inf', 'Infinity')) })
    current.labelNames = labelsSeen(current.samples)
  }
  return [...families.values()]
}

function labelsSeen(samples: MetricFamily['samples']): string[] {
  return [...new Set(samples.flatMap((s) => Object.keys(s.labels)))]
}
