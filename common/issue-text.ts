// Config validation messages, shared by the proxy's config, the modules' rule
// schemas and the diff suites: each names what was expected and what was found.

import type { z } from 'zod'

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
