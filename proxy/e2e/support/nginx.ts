// Runs a real nginx on loopback for a test: one process (no master), its
// temporary files in a folder of its own, the `http {}` body (and, if any, the
// `stream {}` body) given by the test; stopped by the test.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { pidOf, stopProcess } from './stop-process.ts'
import { findTool } from './tools.ts'

export interface NginxServer {
  dir: string
  /** SIGSTOP: it holds every connection and answers nothing until resumed. */
  pause(): Promise<void>
  resume(): void
  /** SIGKILL: its connections reset, its ports refuse until `start`. */
  kill(): Promise<void>
  /** Starts it again on the same config and ports (after `kill`). */
  start(): Promise<void>
  stop(): Promise<void>
}

/** Debian builds the stream module apart (package libnginx-mod-stream). */
export const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so'

/**
 * Starts nginx with `httpBody` inside `http {}` (and `streamBody` inside
 * `stream {}`); resolves once every port in `ports` accepts connections.
 */
export async function startNginx(
  httpBody: string,
  ports: readonly number[],
  core?: number,
  streamBody?: string,
): Promise<NginxServer> {
  const nginx = findTool('nginx')
  if (!nginx) throw new Error('nginx is not installed: apt-get install -y nginx-light')
  const dir = mkdtempSync(join(tmpdir(), 'cutover-nginx-'))
  // load_module must come before any block.
  const module = streamBody !== undefined && existsSync(STREAM_MODULE)
  const conf = `${module ? `load_module ${STREAM_MODULE};\n` : ''}daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type application/octet-stream;
${httpBody}
}
${streamBody === undefined ? '' : `stream {\n${streamBody}\n}\n`}`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const argv = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]
  let child: ChildProcess
  let exited: Promise<void>
  let stderr = ''
  const launch = async () => {
    // Benchmarks pin nginx to one core; tests let it run anywhere.
    child = spawn(
      core === undefined ? nginx : 'taskset',
      core === undefined ? argv : ['-c', String(core), nginx, ...argv],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    child.stderr?.on('data', (d) => {
      stderr += d
    })
    const running = child
    exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    await untilListening('nginx', child, ports, () => stderr, server.stop)
  }
  const server: NginxServer = {
    dir,
    pause: () => stopProcess(pidOf(child)),
    resume: () => child.kill('SIGCONT'),
    kill: async () => {
      child.kill('SIGKILL')
      await exited
    },
    start: launch,
    stop: async () => {
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await launch()
  return server
}

/** Resolves once every port in `ports` accepts connections; throws if `child` exits first, or (after `stop`) past 10 s. */
export async function untilListening(
  name: string,
  child: ChildProcess,
  ports: readonly number[],
  stderr: () => string,
  stop: () => Promise<void>,
): Promise<void> {
  for (const port of ports) {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null)
        throw new Error(`${name} exited with ${child.exitCode}:\n${stderr()}`)
      if (await accepts(port)) break
      if (i === 200) {
        await stop()
        throw new Error(`${name} did not listen on ${port} within 10 s:\n${stderr()}`)
      }
      await delay(50)
    }
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}
