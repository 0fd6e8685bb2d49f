// A request body checked against its schema: a 400 (BadRequest, which the admin
// API's error handler answers) naming each field that is wrong and why.

import type { z } from 'zod'

export class BadRequest extends Error {}

export function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body ?? {})
  if (!r.success)
    throw new BadRequest(
      r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    )
  return r.data
}
