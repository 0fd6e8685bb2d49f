// Console sign-ins: an admin token given once at sign-in becomes a session, held
// in an HttpOnly cookie the page's scripts cannot read; every change it makes
// also carries the session's CSRF token in a header, which another site's page
// cannot know. A session acts as the token it was opened with, as that token
// stands now: one removed, replaced or made a viewer's by a reload takes its
// sessions along. Sessions live in this process's memory, bounded in number and age.

import { randomBytes } from 'node:crypto'
import { type NamedToken, tokenOf } from '../token.ts'

export const SESSION_COOKIE = 'cutover_session'
export const CSRF_HEADER = 'x-csrf-token'
const MAX_AGE_MS = 12 * 3600_000
const MAX_SESSIONS = 1000

export interface Session {
  /** The token it was opened with (in memory only, never sent back). */
  token: string
  csrf: string
  expires: number
}

export interface Sessions {
  /** A new session for `token`, or undefined when no token matches. */
  open(token: string): { id: string; session: Session; caller: NamedToken } | undefined
  /** The caller a cookie's session acts as, if it is open and its token still stands. */
  callerOf(id: string | undefined): { session: Session; caller: NamedToken } | undefined
  close(id: string | undefined): void
  readonly maxAgeSeconds: number
}

export function consoleSessions(tokens: () => readonly NamedToken[], now = Date.now): Sessions {
  const open = new Map<string, Session>()
  return {
    maxAgeSeconds: MAX_AGE_MS / 1000,
    open(token) {
      const caller = tokenOf(token, tokens())
      if (!caller) return undefined
      for (const [id, s] of open) if (s.expires <= now()) open.delete(id)
      // The oldest session makes way: a flood of sign-ins cannot grow memory.
      if (open.size >= MAX_SESSIONS) open.delete(open.keys().next().value as string)
      const id = randomBytes(32).toString('base64url')
      const session = {
        token,
        csrf: randomBytes(24).toString('base64url'),
        expires: now() + MAX_AGE_MS,
      }
      open.set(id, session)
      return { id, session, caller }
    },
    callerOf(id) {
      const session = id === undefined ? undefined : open.get(id)
      if (!session || id === undefined) return undefined
      if (session.expires <= now()) {
        open.delete(id)
        return undefined
      }
      const caller = tokenOf(session.token, tokens())
      if (!caller) {
        open.delete(id)
        return undefined
      }
      return { session, caller }
    },
    close(id) {
      if (id !== undefined) open.delete(id)
    },
  }
}

/** The value of cookie `name` in a Cookie header. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}
