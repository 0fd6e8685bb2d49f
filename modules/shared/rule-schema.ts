// Validates a site rule against its module's schema: each error names the key,
// what was expected and what was found. The keys every rule may carry, whatever
// its type (`everywhere`), are read here once; a module's schema never sees them.

import { z } from 'zod'
import { CutoverError } from '../../common/cutover-error.ts'
import { issueText } from '../../common/issue-text.ts'

/** The keys common to every rule. */
const common = z.looseObject({ everywhere: z.boolean().default(false) })

/** Validates a site rule; throws CONFIG_INVALID naming `where` (e.g. `http.sites[0].rules[2]`) and the key. */
export function parseRule<S extends z.ZodType>(
  schema: S,
  rule: unknown,
  where: string,
): z.output<S> {
  return validate(schema, withoutCommonKeys(rule), where)
}

/**
 * Whether a rule is marked `everywhere: true`: it runs in front of the legacy
 * too. Throws CONFIG_INVALID naming `where` when the key is not a boolean.
 */
export function ruleEverywhere(rule: unknown, where: string): boolean {
  return validate(common, rule, where).everywhere
}

function validate<S extends z.ZodType>(schema: S, rule: unknown, where: string): z.output<S> {
  const result = schema.safeParse(rule, { reportInput: true })
  if (result.success) return result.data
  const lines = result.error.issues.map(
    (i) => `  ${[where, ...i.path.map(String)].join('.')}: ${issueText(i)}`,
  )
  throw new CutoverError('CONFIG_INVALID', `invalid rule:\n${lines.join('\n')}`)
}

/** `rule` without the common keys, for a module's strict schema. */
function withoutCommonKeys(rule: unknown): unknown {
  if (typeof rule !== 'object' || rule === null || !('everywhere' in rule)) return rule
  const { everywhere: _common, ...own } = rule
  return own
}
