// The admin tokens. The main one ("admin"): what every state-changing admin
// call, forced path and decision trace may prove; from CUTOVER_ADMIN_TOKEN,
// else the token file (created with a random token, readable by its owner
// only, on first start). Named ones (admin.tokens), made the same way: each
// change made with one is recorded under its name, and a viewer's changes nothing.

import { randomBytes, timingSafeEqual } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { CutoverError } from '../../common/cutover-error.ts'
import type { Config } from '../config/config.ts'

export function tokenFileOf(config: Config): string {
  return config.admin.tokenFile ?? join(config.state, 'admin-token')
}

/** The token the proxy checks; creates the token file when there is neither it nor the variable. */
export function loadOrCreateToken(config: Config): string {
  const fromEnv = process.env.CUTOVER_ADMIN_TOKEN
  if (fromEnv) return fromEnv
  const file = tokenFileOf(config)
  createTokenFile(file)
  return readToken(file)
}

/** Who presents a token, and what it may do. */
export interface NamedToken {
  name: string
  role: 'operator' | 'viewer'
  token: string
}

/** Every token the admin API takes: the main one (named "admin", an operator) and admin.tokens. */
export function loadNamedTokens(config: Config): NamedToken[] {
  const all: NamedToken[] = [{ name: 'admin', role: 'operator', token: loadOrCreateToken(config) }]
  for (const t of config.admin.tokens) {
    createTokenFile(t.file)
    const token = readTokenFile(t.file)
    const twin = all.find((other) => other.token === token)
    if (twin)
      throw new CutoverError(
        'CONFIG_INVALID',
        `admin token '${t.name}' (${t.file}) is the same as '${twin.name}': each person or tool needs a token of its own`,
      )
    all.push({ name: t.name, role: t.role, token })
  }
  return all
}

/** The token `presented` is, if any (each compared in constant time). */
export function tokenOf(presented: string, tokens: readonly NamedToken[]): NamedToken | undefined {
  return tokens.find((t) => tokenMatches(presented, t.token))
}

/** Makes `file` with a random token, readable by its owner only, unless it exists. */
function createTokenFile(file: string): void {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true })
    // Written aside and renamed into place: a process reading it at the same
    // moment sees no file or the whole token, never an empty one.
    const aside = `${file}.${process.pid}.tmp`
    writeFileSync(aside, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 })
    chmodSync(aside, 0o600)
    // Another process may have renamed its own first: keep whichever is there.
    if (existsSync(file)) rmSync(aside)
    else renameSync(aside, file)
  }
}

/** The token a client presents: the variable, else the file the proxy created. */
export function readToken(file: string): string {
  return process.env.CUTOVER_ADMIN_TOKEN || readTokenFile(file)
}

function readTokenFile(file: string): string {
  let token: string
  try {
    token = readFileSync(file, 'utf8').trim()
  } catch {
    throw new CutoverError(
      'USAGE',
      `no admin token: ${file} does not exist (start the proxy once, or set CUTOVER_ADMIN_TOKEN)`,
    )
  }
  if (token.length < 16)
    throw new CutoverError(
      'CONFIG_INVALID',
      `the admin token in ${file} is shorter than 16 characters`,
    )
  return token
}

/** Constant-time comparison of a presented token with the real one. */
export function tokenMatches(presented: string, token: string): boolean {
  const a = Buffer.from(presented)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The tokens of a reloaded config; if they cannot be read, `previous`, and the log says why. */
export function tokensOr(
  next: Config,
  previous: NamedToken[],
  log: { error(obj: object, msg?: string): void },
): NamedToken[] {
  try {
    return loadNamedTokens(next)
  } catch (err) {
    log.error(
      { err: (err as Error).message },
      'reload: the admin tokens were not read again; the previous ones stay',
    )
    return previous
  }
}
