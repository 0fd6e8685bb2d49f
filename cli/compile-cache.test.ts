import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ROOT } from '../proxy/e2e/support/cli.ts'
import { enableCompileCache } from './compile-cache.ts'

let home: string
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cutover-cache-'))
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

/** The folder passed to Node's enableCompileCache (undefined: called with none), or 'off' when not called. */
function enabledWith(env: NodeJS.ProcessEnv): string | undefined | 'off' {
  let got: string | undefined | 'off' = 'off'
  enableCompileCache(env, (dir) => {
    got = dir
  })
  return got
}

describe('the compile cache folder', () => {
  it('is made under XDG_CACHE_HOME, readable and writable only by this user', () => {
    const dir = join(home, 'cutover', 'node-compile-cache')
    expect(enabledWith({ XDG_CACHE_HOME: home })).toBe(dir)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('is not used when others can write to it', () => {
    const dir = join(home, 'cutover', 'node-compile-cache')
    mkdirSync(dir, { recursive: true })
    chmodSync(dir, 0o777)
    expect(enabledWith({ XDG_CACHE_HOME: home })).toBe('off')
  })

  it('is not used, and nothing throws, when it cannot be made', () => {
    writeFileSync(join(home, 'cutover'), 'a file where the folder would go')
    expect(enabledWith({ XDG_CACHE_HOME: home })).toBe('off')
  })

  it('leaves the choice to Node when NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE is set', () => {
    expect(enabledWith({ XDG_CACHE_HOME: home, NODE_COMPILE_CACHE: join(home, 'x') })).toBe(
      undefined,
    )
    expect(enabledWith({ XDG_CACHE_HOME: home, NODE_DISABLE_COMPILE_CACHE: '1' })).toBe(undefined)
    expect(readdirSync(home)).toEqual([])
  })

  it('holds the code cache once a cutover command has run', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: home }
    delete env.NODE_COMPILE_CACHE
    delete env.NODE_DISABLE_COMPILE_CACHE
    const run = spawnSync(process.execPath, [join(ROOT, 'cli', 'cutover.ts'), '--help'], { env })
    expect(run.status, String(run.stderr)).toBe(0)
    // One folder per Node version and V8 flags, holding an entry per module compiled.
    const [version] = readdirSync(join(home, 'cutover', 'node-compile-cache'))
    expect(version).toMatch(/^v24\./)
    expect(
      readdirSync(join(home, 'cutover', 'node-compile-cache', version)).length,
    ).toBeGreaterThan(1)
  })
})
