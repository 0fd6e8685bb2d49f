import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfig } from '../config/config.ts'
import { loadNamedTokens, tokenOf } from './token.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-tokens-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function config(tokens: unknown[]) {
  const file = join(dir, 'cutover.yaml')
  writeFileSync(
    file,
    stringify({
      state: 'state',
      admin: { tokens },
      dns: { listen: '127.0.0.1:0', legacy: { servers: ['127.0.0.1:9'] } },
    }),
  )
  return loadConfig(file)
}

describe('loadNamedTokens', () => {
  it('makes each missing token file, owner-only, and knows each presented token by name', () => {
    const tokens = loadNamedTokens(
      config([
        { name: 'deploy-bot', file: 'bot.token', role: 'operator' },
        { name: 'oncall', file: 'oncall.token', role: 'viewer' },
      ]),
    )
    expect(tokens.map((t) => [t.name, t.role])).toEqual([
      ['admin', 'operator'],
      ['deploy-bot', 'operator'],
      ['oncall', 'viewer'],
    ])
    const bot = join(dir, 'bot.token')
    expect(statSync(bot).mode & 0o777).toBe(0o600)
    expect(tokenOf(readFileSync(bot, 'utf8').trim(), tokens)?.name).toBe('deploy-bot')
    expect(tokenOf('not-a-token-at-all', tokens)).toBeUndefined()
  })

  it('refuses two tokens with the same value, naming both', () => {
    writeFileSync(join(dir, 'a.token'), 'same-token-0123456789abcdef\n')
    writeFileSync(join(dir, 'b.token'), 'same-token-0123456789abcdef\n')
    expect(() =>
      loadNamedTokens(
        config([
          { name: 'a', file: 'a.token', role: 'operator' },
          { name: 'b', file: 'b.token', role: 'viewer' },
        ]),
      ),
    ).toThrow(`admin token 'b' (${join(dir, 'b.token')}) is the same as 'a'`)
  })

  it('refuses two tokens of one name, and the name of the main one', () => {
    expect(() =>
      config([
        { name: 'x', file: 'a.token', role: 'operator' },
        { name: 'x', file: 'b.token', role: 'viewer' },
      ]),
    ).toThrow('two tokens have the same name')
    expect(() => config([{ name: 'admin', file: 'a.token', role: 'viewer' }])).toThrow(
      '"admin" is the name of the tokenFile token',
    )
  })
})
