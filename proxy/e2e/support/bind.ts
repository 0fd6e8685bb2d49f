// Runs a real BIND 9 `named` on loopback for a test: authoritative only, serving
// the given zone files, on a free port; stopped by the test. Its answers are a
// default BIND's (a legacy as users run it): only what a test passes in
// `extraOptions` changes them.

import { type ChildProcess, spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { buildQuery } from '../../../dns/message.ts'
import { exchange } from '../../../legacy-adapter/dns-client.ts'
import { freePort } from './free-port.ts'
import { pidOf, stopProcess } from './stop-process.ts'
import { findTool } from './tools.ts'

export interface BindServer {
  host: string
  port: number
  dir: string
  stop(): Promise<void>
  /** Stops and continues the process (SIGSTOP, SIGCONT): a server that hangs, then comes back. */
  pause(): Promise<void>
  resume(): void
  /** Kills the process outright (SIGKILL), then starts it again on the same port; resolves once it answers. */
  killAndStart(): Promise<void>
}

export interface BindZone {
  name: string
  file: string
  /** Accept RFC 2136 dynamic updates from loopback (for nsupdate tests). */
  dynamic?: boolean
}

/**
 * Starts named for `zones`. Its working directory is `zoneDir`, the folder BIND
 * resolves `$INCLUDE` against; everything it writes goes to a temporary folder.
 */
export async function startBind(
  zones: readonly BindZone[],
  zoneDir: string,
  extraOptions = '',
  /** Pin named to this CPU core (benchmarks). */
  core?: number,
): Promise<BindServer> {
  const named = findTool('named')
  if (!named) throw new Error('named (BIND 9) is not installed: apt-get install -y bind9')
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bind-'))
  const port = await freePort()
  const conf = `options {
  directory "${zoneDir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  ${extraOptions}
};
controls { };
${zones
  .map(
    (z) => `zone "${z.name}" {
  type primary;
  file "${z.dynamic ? `${dir}/${z.name}.zone` : z.file}";
  ${z.dynamic ? 'allow-update { 127.0.0.1; };' : ''}
};`,
  )
  .join('\n')}
`
  for (const z of zones.filter((z) => z.dynamic)) copyFileSync(z.file, `${dir}/${z.name}.zone`)
  writeFileSync(join(dir, 'named.conf'), conf)
  const argv = ['-g', '-c', join(dir, 'named.conf'), '-n', '1']
  let stderr = ''
  const launch = () => {
    const child = spawn(
      core === undefined ? named : 'taskset',
      core === undefined ? argv : ['-c', String(core), named, ...argv],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    child.stderr?.on('data', (d) => {
      stderr += d
    })
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    return { child, exited }
  }
  let run = launch()
  const zone = zones[0]?.name ?? '.'
  const server: BindServer = {
    host: '127.0.0.1',
    port,
    dir,
    stop: async () => {
      run.child.kill('SIGCONT')
      run.child.kill('SIGTERM')
      await run.exited
      rmSync(dir, { recursive: true, force: true })
    },
    pause: () => stopProcess(pidOf(run.child)),
    resume: () => run.child.kill('SIGCONT'),
    killAndStart: async () => {
      run.child.kill('SIGKILL')
      await run.exited
      run = launch()
      await waitReady(server, zone, run.child, () => stderr)
    },
  }
  await waitReady(server, zone, run.child, () => stderr)
  return server
}

async function waitReady(
  server: BindServer,
  zone: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const query = buildQuery({ name: zone, type: 6, rd: false })
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null)
      throw new Error(`named exited with ${child.exitCode}:\n${stderr()}`)
    try {
      const reply = await exchange(server, query, 'udp', 100)
      if ((reply[3] & 0xf) === 0) return
    } catch {
      // Not listening yet: poll again shortly (bounded by the loop).
      await delay(50)
    }
  }
  await server.stop()
  throw new Error(`named did not answer for ${zone} within 10 s:\n${stderr()}`)
}
