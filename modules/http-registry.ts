// Every HTTP module by name, and which module serves each rule type. A site
// whose rules name a type no module serves stays on the legacy path as a whole;
// its rules marked `everywhere: true` still run in front of the legacy.

import { CutoverError } from '../common/cutover-error.ts'
import { accessModule } from './access/index.ts'
import { cacheModule } from './cache/index.ts'
import { HTTP_CHAIN, type HttpModuleName } from './chain.ts'
import { headersModule } from './headers/index.ts'
import type { HttpModule, Rule } from './http-module.ts'
import { ratelimitModule } from './ratelimit/index.ts'
import { redirectModule } from './redirect/index.ts'
import { ruleEverywhere } from './shared/rule-schema.ts'
import { staticModule } from './static/index.ts'

export const HTTP_MODULES: Record<HttpModuleName, HttpModule> = {
  access: accessModule,
  ratelimit: ratelimitModule,
  redirect: redirectModule,
  static: staticModule,
  headers: headersModule,
  cache: cacheModule,
}

const byRuleType = new Map<string, HttpModule>()
for (const name of HTTP_CHAIN)
  for (const type of HTTP_MODULES[name]?.ruleTypes ?? []) byRuleType.set(type, HTTP_MODULES[name]!)

/** A module with some of a site's rules and their config paths. */
export interface ChainLink {
  module: HttpModule
  rules: Rule[]
  where: string[]
}

/** The rule types of `rules` that no module serves (empty: the new path can serve the site). */
export function unsupportedRuleTypes(rules: readonly Rule[]): string[] {
  return [...new Set(rules.map((r) => r.type).filter((t) => !byRuleType.has(t)))]
}

/** The modules with rules for a site, in chain order, each with its rules and their config paths. */
export function modulesForRules(rules: readonly Rule[], where: string): ChainLink[] {
  return chainOf(rules, where, () => true)
}

/**
 * The modules of a site's rules marked `everywhere: true`, as modulesForRules
 * gives them; rules of a type no module serves are left out (the legacy serves
 * them). Throws CONFIG_INVALID naming the rule when its module cannot run in
 * front of the legacy, or its `everywhere` is not a boolean.
 */
export function everywhereModulesForRules(rules: readonly Rule[], where: string): ChainLink[] {
  return chainOf(rules, where, (rule, at, module) => {
    if (!ruleEverywhere(rule, at)) return false
    if (module.everywhere !== true)
      throw new CutoverError(
        'CONFIG_INVALID',
        `${at}: a ${rule.type} rule cannot run in front of the legacy (everywhere: true): ${module.everywhere.refused}`,
      )
    return true
  })
}

/** The modules of the rules `keep` picks, in chain order. */
function chainOf(
  rules: readonly Rule[],
  where: string,
  keep: (rule: Rule, at: string, module: HttpModule) => boolean,
): ChainLink[] {
  const out: ChainLink[] = []
  for (const name of HTTP_CHAIN) {
    const module = HTTP_MODULES[name]
    const picked = rules
      .map((rule, i) => ({ rule, at: `${where}.rules[${i}]` }))
      .filter((r) => module.ruleTypes.includes(r.rule.type) && keep(r.rule, r.at, module))
    if (picked.length > 0)
      out.push({ module, rules: picked.map((r) => r.rule), where: picked.map((r) => r.at) })
  }
  return out
}
