// Config validation messages, shared by the proxy's config and the modules' rule
// schemas: each names the key, what was expected and what was found.

import type { z } from 'zod'
import { CutoverError } from '../dns/errors.ts'

/** One zod issue as a sentence for a person fixing their config. */
export function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling against README's configuration reference`
  }
  if (issue.code === 'invalid_type') {
    return `expected ${issue.expected}${issue.input === undefined ? ' (missing)' : `, got ${JSON.stringify(issue.input)}`}`
  }
  if (issue.code === 'invalid_key') return issue.issues[0]?.message ?? issue.message
  if (issue.code === 'invalid_union') {
    // When one alternative got past its shape, its own complaint is the useful one.
    const specific = issue.errors
      .flat()
      .find(
        (i) =>
          i.code !== 'unrecognized_keys' && i.code !== 'invalid_type' && i.code !== 'invalid_value',
      )
    if (specific)
      return `${specific.path.length ? `${specific.path.join('.')}: ` : ''}${specific.message}`
  }
  return issue.message
}

/** Validates a site rule; throws CONFIG_INVALID naming `where` (e.g. `http.sites[0].rules[2]`) and the key. */
export function parseRule<S extends z.ZodType>(
  schema: S,
  rule: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(rule, { reportInput: true })
  if (result.success) return result.data
  const lines = result.error.issues.map(
    (i) => `  ${[where, ...i.path.map(String)].join('.')}: ${issueText(i)}`,
  )
  throw new CutoverError('CONFIG_INVALID', `invalid rule:\n${lines.join('\n')}`)
}
