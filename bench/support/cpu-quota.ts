// A share of one CPU core for a server under test, from a cgroup's CPU quota:
// on a 2-core machine one load generator cannot send twice what a server on a
// whole core serves, but it can send twice what a quarter of a core serves.
// The period is short (a few ms) so that being throttled adds at most that much
// to a request's latency, not the 100 ms of the kernel's default period.

import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The kernel's smallest quota: the period is as short as the share allows above it. */
const MIN_QUOTA_US = 1000

export interface CpuQuota {
  /** Runs `command args` inside the cgroup: the arguments for `sh`. */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] }
  remove(): void
}

/** A cgroup allowed `share` (0..1) of one core; needs root and the cgroup v2 or v1 cpu controller. */
export function cpuQuota(name: string, share: number): CpuQuota {
  const period = Math.max(MIN_QUOTA_US, Math.ceil(MIN_QUOTA_US / share))
  const quota = Math.round(period * share)
  const v2 = '/sys/fs/cgroup/cgroup.controllers'
  const dir = existsSync(v2) ? join('/sys/fs/cgroup', name) : join('/sys/fs/cgroup/cpu', name)
  try {
    mkdirSync(dir, { recursive: true })
    if (existsSync(v2)) writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`)
    else {
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period))
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota))
    }
  } catch (err) {
    throw new Error(
      `cannot give the server a CPU quota in ${dir} (${(err as Error).message}): this bench needs root and a cgroup cpu controller`,
    )
  }
  return {
    // The shell joins the cgroup, then becomes the command: it and every process it starts stay inside.
    wrap: (command, args) => ({
      command: 'sh',
      args: ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec "$@"`, 'sh', command, ...args],
    }),
    remove: () => rmdirSync(dir),
  }
}
