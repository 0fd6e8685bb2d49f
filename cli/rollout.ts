// `cutover rollout ...`: reads and changes the rollout through the running
// proxy's admin API (the one place changes are validated and audited), with the
// admin token from CUTOVER_ADMIN_TOKEN or the token file of the config.

import { setTimeout as delay } from 'node:timers/promises'
import { CutoverError } from '../common/cutover-error.ts'
import type { GateReading } from '../rollout/gates.ts'
import { type Admin, adminOf, call } from './admin-client.ts'
import { options } from './args.ts'
import { readingText } from './gate-text.ts'
import { driftOf, moveFor } from './rollout-drift.ts'

export const ROLLOUT_USAGE = `usage: cutover rollout <command> [--config FILE]

  status [--json] [--watch]                every scope: percentage, plan step, gate health (--watch: every 2 s until Ctrl-C)
  set SCOPE PERCENT [--reason TEXT]        set a percentage by hand (0.01 steps; 0 is the kill switch)
  plan SCOPE --steps 1,5,25,50,100 --bake DURATION
                                           walk SCOPE through the steps, baking each while its gates hold
  pause|resume|abort|promote SCOPE [--reason TEXT]
  history [SCOPE] [--json] [--limit N]     who changed what, when, from, to and why
  apply [--bake DURATION] [--reason TEXT]  move the live state to the config's percentages (the config
                                           seeds it only at the first start): a raise of more than 25
                                           points becomes a plan of 25-point steps, each baked (default 10m)

SCOPE is like dns:example.com, dns:example.com/AAAA, http:shop.example.com or http:shop.example.com/api/.
--config defaults to $CUTOVER_CONFIG, then ./cutover.yaml. --admin URL reaches the admin API
directly (another machine, through a tunnel), with the token from $CUTOVER_ADMIN_TOKEN.`

/** How often `rollout status --watch` reads the state again. */
const WATCH_MS = 2000

/** `rollout apply`: each scope the live state has elsewhere than the config, moved there, or left and why. */
async function apply(admin: Admin, bake: string, reason: string | undefined): Promise<string[]> {
  const live = (await call(admin, 'GET', '/rollout')) as { scopes: ScopeView[] }
  const drifts = driftOf(admin.config(), live.scopes)
  if (drifts.length === 0) return ['the live state already agrees with the config']
  const lines: string[] = []
  for (const d of drifts) {
    const move = moveFor(d)
    const path = `/rollout/${encodeURIComponent(d.scope)}`
    if (move.kind === 'set') {
      await call(admin, 'PUT', path, {
        percent: move.percent,
        reason: reason ?? `rollout apply: the config says ${move.percent}%`,
      })
      lines.push(`${d.scope}: ${d.live}% -> ${move.percent}%`)
    } else if (move.kind === 'plan') {
      await call(admin, 'POST', path, { action: 'plan', steps: move.steps, bake })
      lines.push(`${d.scope}: ${d.live}% -> plan ${move.steps.join(', ')} (bake ${bake} each)`)
    } else lines.push(`${d.scope}: left at ${d.live}%: ${move.why}`)
  }
  return lines
}

interface ScopeView {
  scope: string
  percent: number
  servable: boolean
  stickiness: string
  plan?: {
    steps: number[]
    step: number
    status: string
    bakeMs: number
    stepStartedAt: number
    note?: string
  }
  gates?: {
    kind: string
    why?: string
    readings: GateReading[]
  }
}

function planText(s: ScopeView, now: number): string {
  const p = s.plan
  if (!p) return '-'
  const baked = Math.round((now - p.stepStartedAt) / 1000)
  const base = `step ${p.step + 1}/${p.steps.length} (${p.steps.join(',')}) ${p.status}`
  return p.status === 'running'
    ? `${base}, ${baked}s of ${p.bakeMs / 1000}s`
    : `${base}${p.note ? `: ${p.note}` : ''}`
}

function gatesText(s: ScopeView): string {
  return s.gates ? s.gates.readings.map(readingText).join('; ') : ''
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** One `rollout status` table: every scope's percentage, plan and gate readings. */
async function printStatus(
  admin: Admin,
  print: (data: unknown, text: () => string) => void,
): Promise<void> {
  const data = (await call(admin, 'GET', '/rollout')) as {
    version: number
    scopes: ScopeView[]
    store: { ok: boolean; detail?: string }
  }
  print(data, () => {
    const now = Date.now()
    const rows = [['SCOPE', 'NEW %', 'STICKY BY', 'PLAN', 'GATES']]
    for (const s of data.scopes)
      rows.push([
        s.scope,
        s.servable ? s.percent.toFixed(2) : 'legacy',
        s.stickiness,
        planText(s, now),
        gatesText(s),
      ])
    const warning = data.store.ok ? '' : `\nwarning: ${data.store.detail}`
    return `${table(rows)}\n(state version ${data.version})${warning}`
  })
}

export async function rolloutCommand(args: string[]): Promise<number> {
  const { values, positionals } = options(args, {
    config: { type: 'string', short: 'c' },
    admin: { type: 'string' },
    watch: { type: 'boolean' },
    json: { type: 'boolean' },
    reason: { type: 'string' },
    steps: { type: 'string' },
    bake: { type: 'string' },
    limit: { type: 'string' },
  })
  const [command, scope, value] = positionals
  if (!command || command === 'help') {
    process.stdout.write(`${ROLLOUT_USAGE}\n`)
    return command ? 0 : 2
  }
  const needScope = () => {
    if (!scope)
      throw new CutoverError(
        'USAGE',
        `'cutover rollout ${command}' needs a SCOPE, like dns:example.com\n\n${ROLLOUT_USAGE}`,
      )
    return encodeURIComponent(scope)
  }
  const admin = adminOf(values.config, values.admin)
  const print = (data: unknown, text: () => string) =>
    process.stdout.write(`${values.json ? JSON.stringify(data, null, 2) : text()}\n`)
  const printScope = (s: ScopeView) =>
    print(
      s,
      () =>
        `${s.scope}: ${s.percent.toFixed(2)}% on the new path; plan: ${planText(s, Date.now())}`,
    )

  switch (command) {
    case 'status': {
      if (!values.watch) {
        await printStatus(admin, print)
        return 0
      }
      // Until Ctrl-C: the table again every WATCH_MS, each under the time it was read.
      let stopped = false
      process.once('SIGINT', () => {
        stopped = true
      })
      while (!stopped) {
        process.stdout.write(`\n${new Date().toISOString()}\n`)
        await printStatus(admin, print)
        await delay(WATCH_MS)
      }
      return 0
    }
    case 'set': {
      const percent = Number(value)
      if (value === undefined || !Number.isFinite(percent))
        throw new CutoverError(
          'USAGE',
          `'cutover rollout set' needs SCOPE and PERCENT, like: cutover rollout set ${scope ?? 'dns:example.com'} 25`,
        )
      printScope(
        (await call(admin, 'PUT', `/rollout/${needScope()}`, {
          percent,
          reason: values.reason,
        })) as ScopeView,
      )
      return 0
    }
    case 'plan': {
      const path = needScope()
      if (!values.steps || !values.bake)
        throw new CutoverError(
          'USAGE',
          "'cutover rollout plan' needs --steps (like 1,5,25,50,100) and --bake (like 10m)",
        )
      const steps = values.steps.split(',').map(Number)
      printScope(
        (await call(admin, 'POST', `/rollout/${path}`, {
          action: 'plan',
          steps,
          bake: values.bake,
        })) as ScopeView,
      )
      return 0
    }
    case 'pause':
    case 'resume':
    case 'abort':
    case 'promote':
      printScope(
        (await call(admin, 'POST', `/rollout/${needScope()}`, {
          action: command,
          reason: values.reason,
        })) as ScopeView,
      )
      return 0
    case 'apply':
      process.stdout.write(
        `${(await apply(admin, values.bake ?? '10m', values.reason)).join('\n')}\n`,
      )
      return 0
    case 'history': {
      const query = new URLSearchParams({
        limit: values.limit ?? '50',
        ...(scope ? { scope } : {}),
      })
      const data = (await call(admin, 'GET', `/history?${query}`)) as {
        entries: {
          at: number
          scope: string
          from: number
          to: number
          by: string
          action: string
          why: string
        }[]
      }
      print(data, () =>
        table([
          ['WHEN', 'SCOPE', 'ACTION', 'FROM', 'TO', 'BY', 'WHY'],
          ...data.entries.map((e) => [
            new Date(e.at).toISOString(),
            e.scope,
            e.action,
            `${e.from / 100}%`,
            `${e.to / 100}%`,
            e.by,
            e.why,
          ]),
        ]),
      )
      return 0
    }
    default:
      throw new CutoverError('USAGE', `unknown rollout command '${command}'\n\n${ROLLOUT_USAGE}`)
  }
}
