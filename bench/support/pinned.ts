// Child processes pinned to one CPU core with taskset, so a load generator and
// the server under test never share a core; started, awaited and always stopped.

import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'

export interface Pinned {
  child: ChildProcess
  output(): string
  stop(): Promise<void>
}

/** Starts `command` on `core`; resolves once `ready(output)` holds (bounded). */
export async function startPinned(
  core: number,
  command: string,
  args: string[],
  ready: (output: string) => boolean,
  env = process.env,
): Promise<Pinned> {
  const child = spawn('taskset', ['-c', String(core), command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  })
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  child.stderr?.on('data', (d) => {
    output += d
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const pinned: Pinned = {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await Promise.race([exited, delay(10_000).then(() => child.kill('SIGKILL'))])
      await exited
    },
  }
  for (let i = 0; i < 300; i++) {
    if (ready(output)) return pinned
    if (child.exitCode !== null)
      throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode}:\n${output}`)
    await delay(50)
  }
  await pinned.stop()
  throw new Error(`${command} ${args.join(' ')} was not ready within 15 s:\n${output}`)
}

/**
 * Runs a command pinned to `core` to completion and returns its output; one
 * still running after `limitMs` is killed, and this rejects saying so.
 */
export function runPinned(
  core: number,
  command: string,
  args: string[],
  limitMs = Number.POSITIVE_INFINITY,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(core), command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => {
      output += d
    })
    child.stderr.on('data', (d) => {
      output += d
    })
    let overstayed = false
    const limit = Number.isFinite(limitMs)
      ? setTimeout(() => {
          overstayed = true
          child.kill('SIGKILL')
        }, limitMs)
      : undefined
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(limit)
      if (overstayed) reject(new OverstayedError(command, limitMs))
      else if (code === 0) resolve(output)
      else reject(new Error(`${command} exited with ${code}:\n${output.slice(-2000)}`))
    })
  })
}

/** A pinned run that was still going at its time limit, and was killed. */
export class OverstayedError extends Error {
  constructor(command: string, limitMs: number) {
    super(`${command} was still running after ${limitMs / 1000} s, and was killed`)
  }
}

/** Clock ticks per second in /proc's times: USER_HZ, 100 on every Linux build we run on. */
const CLOCK_TICKS = 100

/** Process `pid` and its descendants, from /proc (those that exit while read are left out). */
function processTree(pid: number): number[] {
  const all: number[] = []
  const pending = [pid]
  for (let p = pending.pop(); p !== undefined; p = pending.pop()) {
    try {
      const children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8')
      all.push(p)
      for (const child of children.split(' ')) if (child.trim() !== '') pending.push(Number(child))
    } catch {
      // it has exited
    }
  }
  return all
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return '' // it has exited
  }
}

/**
 * CPU seconds (user and system, all threads) used so far by process `pid` and
 * its descendants: what a server spent, whatever else ran beside it.
 */
export function cpuSecondsOf(pid: number): number {
  let ticks = 0
  for (const p of processTree(pid)) {
    const stat = readProc(p, 'stat')
    if (stat === '') continue
    // Fields after the command's closing parenthesis start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks / CLOCK_TICKS
}

/** Resident memory in bytes of process `pid` and its descendants. */
export function residentBytesOf(pid: number): number {
  let kib = 0
  for (const p of processTree(pid))
    kib += Number(/VmRSS:\s+(\d+) kB/.exec(readProc(p, 'status'))?.[1] ?? 0)
  return kib * 1024
}
