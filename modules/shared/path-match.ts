// Path matching shared by the HTTP modules' rules: exact, prefix, or a regular
// expression (whose captures a rule may use). Compiled once at config time.

import { z } from 'zod'

export const pathMatchSchema = z.union(
  [
    z.strictObject({ exact: z.string().startsWith('/') }),
    z.strictObject({ prefix: z.string().startsWith('/') }),
    z.strictObject({
      regex: z.string().refine(
        (s) => {
          try {
            new RegExp(s)
            return true
          } catch {
            return false
          }
        },
        { message: 'not a valid regular expression' },
      ),
    }),
  ],
  {
    error: 'expected one of { exact: "/path" }, { prefix: "/path/" } or { regex: "^/path/(.*)$" }',
  },
)

export type PathMatch = z.output<typeof pathMatchSchema>

const NO_GROUPS: string[] = []

/**
 * A matcher for `match`: the match's groups as [whole, ...groups] (none for an
 * exact match), or undefined when the path does not match. Groups: a regex's own;
 * for a prefix, what follows it.
 */

export function compilePathMatch(match: PathMatch): (path: string) => string[] | undefined {
  if ('exact' in match) return (path) => (path === match.exact ? NO_GROUPS : undefined)
  // A prefix match captures the rest of the path as group 1.
  if ('prefix' in match)
    return (path) =>
      path.startsWith(match.prefix) ? [path, path.slice(match.prefix.length)] : undefined
  const re = new RegExp(match.regex)
  return (path) => {
    const m = re.exec(path)
    return m === null ? undefined : [...m].map((g) => g ?? '')
  }
}
