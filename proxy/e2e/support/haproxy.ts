// Runs a real HAProxy on loopback for a test: in the foreground, its config
// (global and defaults here, frontends and backends given by the test) in a
// folder of its own; stopped by the test.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { untilListening } from './nginx.ts'
import { findTool } from './tools.ts'

export interface HaproxyServer {
  stop(): Promise<void>
}

/** Starts HAProxy with `body` after its defaults (mode tcp); resolves once every port in `ports` accepts connections. */
export async function startHaproxy(body: string, ports: readonly number[]): Promise<HaproxyServer> {
  const haproxy = findTool('haproxy')
  if (!haproxy) throw new Error('haproxy is not installed: apt-get install -y haproxy')
  const dir = mkdtempSync(join(tmpdir(), 'cutover-haproxy-'))
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(
    file,
    `global
  maxconn 256
defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s
${body}
`,
  )
  // -db: stay in the foreground, as the child of this test.
  const child = spawn(haproxy, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const server: HaproxyServer = {
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await untilListening('haproxy', child, ports, () => stderr, server.stop)
  return server
}
