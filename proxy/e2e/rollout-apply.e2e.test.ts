// The config and the live rollout state, as a team that keeps its rollout in
// Git meets them: the config seeds the state at the first start only, so a
// later edit of a percent is reported by `cutover check` (and so by `reload`)
// and moved into the live state by `cutover rollout apply`, through the same
// transitions a person makes: a small change set at once, a raise of more
// than 25 points walked as a plan, a scope with no percent or a running plan left alone.

import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cutover, runCli } from './support/cli.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'
import { until } from './support/until.ts'

const ZONES = join(import.meta.dirname, 'zones')
const NOWHERE = 'http://127.0.0.1:9'

let proxy: SupervisedProxy | undefined
afterEach(() => {
  proxy?.cleanup()
  proxy = undefined
})

function config(zonePercent: number, sitePercent: number | undefined): Record<string, unknown> {
  return {
    workers: 1,
    dns: {
      listen: '127.0.0.1:0',
      zones: [{ name: 'e2e.test', file: join(ZONES, 'e2e.test.zone'), percent: zonePercent }],
      legacy: { servers: ['127.0.0.1:9'] },
    },
    http: {
      listen: '127.0.0.1:0',
      legacy: { url: NOWHERE },
      doh: false,
      sites: [
        { host: 'set.e2e.test', origin: NOWHERE, percent: sitePercent },
        { host: 'unset.e2e.test', origin: NOWHERE },
      ],
    },
  }
}

interface View {
  scope: string
  percent: number
  plan?: { steps: number[]; status: string }
}

async function live(p: SupervisedProxy): Promise<Map<string, View>> {
  const res = await fetch(`http://127.0.0.1:${p.adminPort}/rollout`)
  const { scopes } = (await res.json()) as { scopes: View[] }
  return new Map(scopes.map((s) => [s.scope, s]))
}

describe('config and live state', () => {
  it('check reports where they differ; rollout apply moves the live state to the config', async () => {
    const p = await startSupervised(config(10, 5))
    proxy = p
    expect((await live(p)).get('http:unset.e2e.test')?.percent).toBe(0)
    const agreed = await cutover(['check', '--config', p.file])
    expect(agreed.out).toContain('live state (the running proxy) agrees with the config')
    expect(agreed.out).toContain(
      'http:unset.e2e.test  0% new (no percent set: starts at 0; the live state may say otherwise)',
    )

    p.rewrite(config(90, 20))
    const check = await cutover(['check', '--config', p.file])
    expect(check.code, check.out).toBe(0)
    expect(check.out).toContain('differs: dns:e2e.test is at 10% live; the config says 90%')
    expect(check.out).toContain('differs: http:set.e2e.test is at 5% live; the config says 20%')
    expect(check.out).not.toContain('unset.e2e.test is at')

    const applied = await cutover(['rollout', 'apply', '--config', p.file, '--bake', '1h'])
    expect(applied.code, applied.out).toBe(0)
    expect(applied.out).toContain('http:set.e2e.test: 5% -> 20%')
    expect(applied.out).toContain('dns:e2e.test: 10% -> plan 35, 60, 85, 90 (bake 1h each)')
    const after = await live(p)
    expect(after.get('http:set.e2e.test')?.percent).toBe(20)
    expect(after.get('dns:e2e.test')).toMatchObject({
      percent: 35,
      plan: { steps: [35, 60, 85, 90], status: 'running' },
    })

    // A running plan is not fought; what agrees is not touched.
    const again = await cutover(['rollout', 'apply', '--config', p.file])
    expect(again.out).toBe(
      'dns:e2e.test: left at 35%: a plan is running on it: let it finish, or abort it, then apply again\n',
    )
    const history = (await (
      await fetch(`http://127.0.0.1:${p.adminPort}/history?scope=http%3Aset.e2e.test`)
    ).json()) as { entries: { why: string }[] }
    expect(history.entries.at(-1)?.why).toBe('rollout apply: the config says 20%')
  }, 60_000)

  it('without --config: CUTOVER_CONFIG, or --admin URL with CUTOVER_ADMIN_TOKEN; status --watch until Ctrl-C', async () => {
    const p = await startSupervised(config(10, 5))
    proxy = p
    const check = await cutover(['check'], { CUTOVER_CONFIG: p.file })
    expect(check.code, check.out).toBe(0)
    expect(check.out).toContain('live state (the running proxy) agrees with the config')

    const admin = `http://127.0.0.1:${p.adminPort}`
    const refused = await cutover(['rollout', 'set', 'http:set.e2e.test', '7', '--admin', admin])
    expect(refused.code).toBe(2)
    expect(refused.out).toContain(
      '--admin without --config needs the admin token in CUTOVER_ADMIN_TOKEN',
    )
    const set = await cutover(['rollout', 'set', 'http:set.e2e.test', '7', '--admin', admin], {
      CUTOVER_ADMIN_TOKEN: p.token,
    })
    expect(set.code, set.out).toBe(0)
    expect((await live(p)).get('http:set.e2e.test')?.percent).toBe(7)
    const bad = await cutover(['rollout', 'status', '--admin', 'localhost:9090/x'])
    expect(bad.code).toBe(2)
    expect(bad.out).toContain("--admin expects the admin API's URL like http://127.0.0.1:9090")

    const watch = runCli(['rollout', 'status', '--watch', '--admin', admin])
    await until(
      () => (watch.output().match(/\(state version \d+\)/g) ?? []).length >= 2,
      'two tables',
      10_000,
    )
    watch.child.kill('SIGINT')
    expect(await watch.exited).toBe(0)
    expect(watch.output()).toContain('http:set.e2e.test')
  }, 60_000)
})
