// Node's module compile cache, kept in a folder only this user can change: a
// code cache another account could write to would run its code as ours, so the
// shared temporary folder Node defaults to is not used. NODE_COMPILE_CACHE picks
// another folder and NODE_DISABLE_COMPILE_CACHE turns it off, as for any Node.

import { mkdirSync, statSync } from 'node:fs'
import module from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Switches the cache on, or leaves it off when no private folder can be had; never throws. */
export function enableCompileCache(
  env: NodeJS.ProcessEnv = process.env,
  enable: (dir?: string) => unknown = module.enableCompileCache,
): void {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) {
    enable()
    return
  }
  let dir: string
  try {
    dir = join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cutover', 'node-compile-cache')
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const folder = statSync(dir)
    if (folder.uid !== process.getuid?.() || (folder.mode & 0o022) !== 0) return
  } catch {
    return // no home to write to (a service user): it runs, just without the cache
  }
  enable(dir)
}
