// Writes an HTTP suite from a site's rules: for each rule, a request it matches
// and one it does not; plus the site root.

import type { HttpCase } from './suite.ts'

interface RuleLike {
  type: string
  match?: { exact?: string; prefix?: string; regex?: string }
  path?: { exact?: string; prefix?: string; regex?: string }
  methods?: string[]
}

function httpCase(host: string, path: string, method = 'GET'): HttpCase {
  return { method, host, path, headers: {}, ignore: [] }
}

/** A path the match takes, and one it does not. */
function paths(m: NonNullable<RuleLike['match']>): [string, string] {
  if (m.exact) return [m.exact, `${m.exact}-not`]
  if (m.prefix) return [`${m.prefix}page?x=1`, `/not${m.prefix}page`]
  // A regex: take its literal head as a guess at a matching path.
  const literal = (m.regex ?? '/').replace(/^\^/, '').replace(/[\\()[\]{}+*?|$.].*$/, '')
  return [`${literal || '/'}1`, '/does-not-match-the-rule']
}

export function generateHttpCases(host: string, rules: readonly RuleLike[]): HttpCase[] {
  const cases: HttpCase[] = [httpCase(host, '/')]
  for (const rule of rules) {
    const m = rule.match ?? rule.path
    if (!m) continue
    const [yes, no] = paths(m)
    cases.push(httpCase(host, yes, rule.methods?.[0] ?? 'GET'), httpCase(host, no))
  }
  return cases
}
