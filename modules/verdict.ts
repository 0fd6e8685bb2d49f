// What a module's phase returns: it answered, pass on, or send to the legacy path.
// Verdicts are shared constants (one object per legacy reason), never booleans,
// and never allocated per request.

export type Verdict =
  | { readonly kind: 'answer' }
  | { readonly kind: 'next' }
  | { readonly kind: 'legacy'; readonly reason: string }

export const ANSWER: Verdict = Object.freeze({ kind: 'answer' })
export const NEXT: Verdict = Object.freeze({ kind: 'next' })

const legacyVerdicts = new Map<string, Verdict>()

/**
 * The new path cannot serve this request. `reason` becomes a metric label, so it
 * must come from a small fixed set (a module's own constants), never from input.
 */
export function legacy(reason: string): Verdict {
  let v = legacyVerdicts.get(reason)
  if (!v) {
    v = Object.freeze({ kind: 'legacy', reason })
    legacyVerdicts.set(reason, v)
  }
  return v
}
