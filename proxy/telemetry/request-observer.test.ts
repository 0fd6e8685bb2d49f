// What a finished request counts: the instance-wide series, the same by scope,
// and the scope's counters for the plan gates; a scope rebuilt by a reload
// counts on in the same series.

import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { catchAllSpec, createScope } from '../../rollout/scopes.ts'
import { createMetrics } from './metrics.ts'
import { requestObserver } from './request-observer.ts'

const SUBNET = { v4: 24, v6: 56 }
const site = (id: string) =>
  createScope(
    {
      id,
      protocol: 'http',
      basisPoints: 5000,
      servable: true,
      stickiness: undefined,
      salt: undefined,
    },
    SUBNET,
  )

async function samples(registry: Registry, name: string): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith(`${name}{`))
}

describe('requestObserver', () => {
  it('counts requests, errors and latency by scope and path beside the instance-wide series', async () => {
    const registry = new Registry()
    const observe = requestObserver(createMetrics(registry), 'http').done
    const shop = site('http:shop.test')
    const other = createScope(catchAllSpec('http'), SUBNET)
    const start = performance.now()
    observe('new', shop, start, false)
    observe('new', shop, start, true)
    observe('legacy', shop, start, true)
    observe('legacy', other, start, false)
    expect(await samples(registry, 'cutover_requests_total')).toEqual([
      'cutover_requests_total{protocol="http",path="new"} 2',
      'cutover_requests_total{protocol="http",path="legacy"} 2',
      'cutover_requests_total{protocol="http",path="fallback"} 0',
    ])
    const scoped = await samples(registry, 'cutover_scope_requests_total')
    expect(scoped).toContain(
      'cutover_scope_requests_total{protocol="http",scope="http:shop.test",path="new"} 2',
    )
    expect(scoped).toContain(
      'cutover_scope_requests_total{protocol="http",scope="http:shop.test",path="legacy"} 1',
    )
    expect(scoped).toContain(
      'cutover_scope_requests_total{protocol="http",scope="http:*",path="legacy"} 1',
    )
    const errors = await samples(registry, 'cutover_scope_errors_total')
    expect(errors).toContain(
      'cutover_scope_errors_total{protocol="http",scope="http:shop.test",path="new"} 1',
    )
    expect(errors).toContain(
      'cutover_scope_errors_total{protocol="http",scope="http:shop.test",path="legacy"} 1',
    )
    expect(errors).toContain(
      'cutover_scope_errors_total{protocol="http",scope="http:*",path="legacy"} 0',
    )
    expect(await samples(registry, 'cutover_scope_request_duration_seconds_count')).toContain(
      'cutover_scope_request_duration_seconds_count{protocol="http",scope="http:shop.test",path="new"} 2',
    )
    expect(shop.stats).toMatchObject({
      newRequests: 2,
      newErrors: 1,
      legacyRequests: 1,
      legacyErrors: 1,
    })
  })

  it('counts a scope rebuilt by a reload on in the same series', async () => {
    const registry = new Registry()
    const metrics = createMetrics(registry)
    requestObserver(metrics, 'http').done('new', site('http:shop.test'), performance.now(), false)
    // A reload builds the engine, its observer and the scope again.
    requestObserver(metrics, 'http').done('new', site('http:shop.test'), performance.now(), false)
    expect(await samples(registry, 'cutover_scope_requests_total')).toContain(
      'cutover_scope_requests_total{protocol="http",scope="http:shop.test",path="new"} 2',
    )
  })

  it('counts a fallback by reason, for the instance and for its scope', async () => {
    const registry = new Registry()
    const observe = requestObserver(createMetrics(registry), 'dns')
    const zone = createScope(
      {
        id: 'dns:shop.test',
        protocol: 'dns',
        basisPoints: 100,
        servable: true,
        stickiness: undefined,
        salt: undefined,
      },
      SUBNET,
    )
    observe.fellBack(zone, 'module-error')
    observe.fellBack(zone, 'module-error')
    observe.fellBack(zone, 'unserved')
    expect(await samples(registry, 'cutover_fallbacks_total')).toEqual([
      'cutover_fallbacks_total{protocol="dns",reason="module-error"} 2',
      'cutover_fallbacks_total{protocol="dns",reason="unserved"} 1',
    ])
    expect(await samples(registry, 'cutover_scope_fallbacks_total')).toEqual([
      'cutover_scope_fallbacks_total{protocol="dns",scope="dns:shop.test",reason="module-error"} 2',
      'cutover_scope_fallbacks_total{protocol="dns",scope="dns:shop.test",reason="unserved"} 1',
    ])
    expect(zone.stats.fallbacks).toBe(3)
  })
})
