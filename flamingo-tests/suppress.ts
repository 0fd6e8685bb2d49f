// Accepted differences: a suppression file lists what each entry matches, who
// accepted it, why, and when it expires. An expired entry no longer applies and
// fails the run until someone renews or removes it.

import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { CutoverError } from '../common/cutover-error.ts'
import type { FieldDiff } from './dns-compare.ts'
import type { Suppression } from './report-model.ts'

const entry = z.strictObject({
  field: z.string().min(1),
  case: z.string().min(1).optional(),
  who: z.string().min(1),
  why: z.string().min(1),
  expires: z.iso.date().or(z.iso.datetime()),
})

const file = z.strictObject({ suppressions: z.array(entry) })

export function loadSuppressions(path: string): Suppression[] {
  let raw: unknown
  try {
    raw = parseYaml(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new CutoverError(
      'USAGE',
      `cannot read suppressions ${path}: ${(err as Error).message.split('\n')[0]}`,
    )
  }
  const r = file.safeParse(raw)
  if (!r.success) {
    throw new CutoverError(
      'USAGE',
      `${path}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')} (each entry needs field, who, why, expires)`,
    )
  }
  return r.data.suppressions
}

/** Glob with `*` only, over a whole case id. */
function globMatches(glob: string, id: string): boolean {
  const re = new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  )
  return re.test(id)
}

export function isExpired(s: Suppression, now: Date): boolean {
  return new Date(s.expires).getTime() < now.getTime()
}

/** The live suppression accepting `diff` in case `id`, if any. */
export function suppressionFor(
  list: readonly Suppression[],
  id: string,
  diff: FieldDiff,
  now: Date,
): Suppression | undefined {
  return list.find(
    (s) =>
      !isExpired(s, now) &&
      (diff.field === s.field || diff.field.startsWith(`${s.field}.`)) &&
      (s.case === undefined || globMatches(s.case, id)),
  )
}
