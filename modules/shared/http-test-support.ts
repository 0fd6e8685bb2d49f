// Test support for HTTP modules: a module's site built from hand-written rules
// (their `type` filled in, each placed in `http.sites[0].rules`), and request
// contexts with defaults. Used by the modules' tests only.

import { Registry } from 'prom-client'
import type { ModuleEnv } from '../env.ts'
import type { HttpContext, HttpModule, HttpRequest, HttpSiteModule } from '../http-module.ts'

const silentLog = { info() {}, warn() {}, error() {} }

/** `module`'s site for `rules`, each of the module's first rule type unless it says otherwise. */
export function siteOf(
  module: HttpModule,
  rules: Record<string, unknown>[],
  env: ModuleEnv = { log: silentLog, registry: new Registry() },
): HttpSiteModule {
  const full = rules.map((r) => ({ type: module.ruleTypes[0], ...r }))
  return module.site(
    full,
    full.map((_, i) => `http.sites[0].rules[${i}]`),
    env,
    0,
  )
}

/** A request context with defaults: GET https://example.test/ from 192.0.2.1. */
export function context(request: Partial<HttpRequest> = {}): HttpContext {
  return {
    request: {
      method: 'GET',
      host: 'example.test',
      path: '/',
      target: request.path ?? '/',
      query: '',
      headers: [],
      clientIp: '192.0.2.1',
      protocol: 'https',
      ...request,
    },
    reply: undefined,
    slots: [],
  }
}
