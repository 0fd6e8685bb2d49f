// Runs the real entry point, `cutover …`, as a child process under Node itself
// (type stripping, not vitest's transpiler), for tests of what a user runs.

import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const CLI = join(ROOT, 'cli', 'cutover.ts')
const children: ChildProcess[] = []

export interface CliRun {
  child: ChildProcess
  output: () => string
  exited: Promise<number>
}

/**
 * `launcher`: a command that runs cutover in turn (systemd-socket-activate with
 * its options); `env`: variables set for it beside this process's.
 */
export function runCli(
  args: string[],
  launcher: string[] = [],
  env: Record<string, string> = {},
): CliRun {
  const [command, ...rest] = [...launcher, process.execPath, CLI, ...args]
  const child = spawn(command, rest, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)))
  return { child, output: () => output, exited }
}

/** Runs `cutover …` to its end: its exit code and output. */
export async function cutover(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const run = runCli(args, [], env)
  return { code: await run.exited, out: run.output() }
}

/** `cutover diff SUITE` between two DNS servers on loopback, more options after. */
export function dnsDiff(
  suite: string,
  legacyPort: number,
  candidatePort: number,
  ...more: string[]
): Promise<{ code: number; out: string }> {
  return cutover([
    'diff',
    suite,
    '--legacy-dns',
    `127.0.0.1:${legacyPort}`,
    '--candidate-dns',
    `127.0.0.1:${candidatePort}`,
    ...more,
  ])
}

/** Kills what a test left running (with its workers: they leave when their supervisor is gone). */
export function killCliRuns(): void {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
}

/** Waits until the run prints `text`; fails with its output if it exits first or takes over `timeoutMs`. */
export async function waitForOutput(r: CliRun, text: string, timeoutMs = 45_000): Promise<void> {
  const found = new Promise<void>((resolve) => {
    const check = () => {
      if (r.output().includes(text)) resolve()
    }
    r.child.stdout?.on('data', check)
    r.child.stderr?.on('data', check)
    check()
  })
  const exited = r.exited.then((code) => {
    throw new Error(`exited with ${code} before printing '${text}':\n${r.output()}`)
  })
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`did not print '${text}' within ${timeoutMs} ms:\n${r.output().slice(-4000)}`),
        ),
      timeoutMs,
    )
  })
  try {
    await Promise.race([found, exited, late])
  } finally {
    clearTimeout(timer)
  }
}
