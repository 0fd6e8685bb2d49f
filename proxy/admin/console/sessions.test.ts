// Console sessions: opened by a token, acting as that token as it stands now,
// ending with their age, their token, or a flood of newer ones.

import { describe, expect, it } from 'vitest'
import type { NamedToken } from '../token.ts'
import { consoleSessions, cookieOf } from './sessions.ts'

const alice: NamedToken = { name: 'alice', role: 'operator', token: 'a'.repeat(64) }
const dana: NamedToken = { name: 'dana', role: 'viewer', token: 'd'.repeat(64) }

describe('consoleSessions', () => {
  it('opens only for a known token, and acts as it with its role', () => {
    const sessions = consoleSessions(() => [alice, dana])
    expect(sessions.open('wrong')).toBeUndefined()
    const opened = sessions.open(dana.token)
    expect(opened?.caller).toEqual(dana)
    expect(opened?.session.csrf).toMatch(/^[\w-]{32}$/)
    expect(sessions.callerOf(opened?.id)?.caller.role).toBe('viewer')
    expect(sessions.callerOf('not-a-session')).toBeUndefined()
    expect(sessions.callerOf(undefined)).toBeUndefined()
  })

  it('ends a session whose token a reload removed or replaced, and one past its age', () => {
    let tokens = [alice]
    let now = 0
    const sessions = consoleSessions(
      () => tokens,
      () => now,
    )
    const first = sessions.open(alice.token)!
    tokens = [{ ...alice, token: 'b'.repeat(64) }]
    expect(sessions.callerOf(first.id)).toBeUndefined()
    tokens = [alice]
    expect(sessions.callerOf(first.id)).toBeUndefined() // gone for good
    const second = sessions.open(alice.token)!
    now += sessions.maxAgeSeconds * 1000
    expect(sessions.callerOf(second.id)).toBeUndefined()
  })

  it('keeps at most 1,000 sessions, the oldest making way', () => {
    const sessions = consoleSessions(() => [alice])
    const first = sessions.open(alice.token)!
    for (let i = 0; i < 1000; i++) sessions.open(alice.token)
    expect(sessions.callerOf(first.id)).toBeUndefined()
  })

  it('closes on sign-out', () => {
    const sessions = consoleSessions(() => [alice])
    const opened = sessions.open(alice.token)!
    sessions.close(opened.id)
    expect(sessions.callerOf(opened.id)).toBeUndefined()
  })
})

describe('cookieOf', () => {
  it('finds a cookie among others', () => {
    expect(cookieOf('a=1; cutover_session=xyz; b=2', 'cutover_session')).toBe('xyz')
    expect(cookieOf('a=1', 'cutover_session')).toBeUndefined()
    expect(cookieOf(undefined, 'cutover_session')).toBeUndefined()
  })
})
