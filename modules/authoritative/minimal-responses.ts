// BIND's `minimal-responses`: which optional records a positive answer carries.
// The zone's NS RRset in the authority section, and in the additional section
// the addresses of the names NS, MX and SRV records point at. BIND 9.18's
// default, `no-auth-recursive`, answers resolvers (RD=0) in full and stub
// clients (RD=1) without the NS RRset; a zone under that setting keeps two
// precomputed forms of each positive answer.

export const MINIMAL_RESPONSES = ['no', 'no-auth', 'no-auth-recursive', 'yes'] as const
export type MinimalResponses = (typeof MINIMAL_RESPONSES)[number]
export const DEFAULT_MINIMAL_RESPONSES: MinimalResponses = 'no-auth-recursive'

/** The optional parts of a positive answer (a referral's glue and a negative answer's SOA are required). */
export interface Extras {
  /** The zone's NS RRset in the authority section, with its addresses in the additional section. */
  readonly authorityNs: boolean
  /** Addresses for the answer's MX and SRV targets (an NS answer always has its addresses, as in BIND). */
  readonly additional: boolean
}

const FULL: Extras = { authorityNs: true, additional: true }
const NO_AUTH: Extras = { authorityNs: false, additional: true }
const MINIMAL: Extras = { authorityNs: false, additional: false }

/**
 * The forms a zone's answers take: `[0]` for every query, or for RD=1 queries
 * when there is a `[1]` for RD=0 ones.
 */
export function extrasOf(setting: MinimalResponses): readonly Extras[] {
  switch (setting) {
    case 'no':
      return [FULL]
    case 'no-auth':
      return [NO_AUTH]
    case 'no-auth-recursive':
      return [NO_AUTH, FULL]
    case 'yes':
      return [MINIMAL]
  }
}
