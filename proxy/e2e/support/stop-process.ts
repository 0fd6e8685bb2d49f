// Stops a process as a hung server: SIGSTOP, then waits until every thread of it
// is stopped. kill() returns once the signal is queued, and the stop takes effect
// only when one of the process's threads next runs and takes the signal; on a
// busy machine the others answer meanwhile (a "stopped" named answered 62 queries
// in 200 sent right after its SIGSTOP while two CPU hogs ran).

import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'

/** Sends SIGSTOP to `pid` and resolves once all its threads are stopped; throws after 2 s. */
export async function stopProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP')
  for (let i = 0; i < 400; i++) {
    if (everyThreadStopped(pid)) return
    await delay(5)
  }
  throw new Error(`process ${pid} was sent SIGSTOP but its threads were still running 2 s later`)
}

/** A started child's pid: a child that failed to spawn has none. */
export function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error(`${child.spawnfile} has no pid: it did not start`)
  return child.pid
}

function everyThreadStopped(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((tid) => {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    } catch {
      return true // the thread exited since the listing
    }
    // "tid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
    const state = stat[stat.lastIndexOf(')') + 2]
    return state === 'T' || state === 't'
  })
}
