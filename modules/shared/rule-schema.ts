// Validates a site rule against its module's schema: each error names the key,
// what was expected and what was found.

import type { z } from 'zod'
import { CutoverError } from '../../common/cutover-error.ts'
import { issueText } from '../../common/issue-text.ts'

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
