// Runs a real nginx on loopback for a test: one process (no master), its
// temporary files in a folder of its own, the `http {}` body given by the test;
// stopped by the test.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { findTool } from './tools.ts'

export interface NginxServer {
  dir: string
  stop(): Promise<void>
}

/** Starts nginx with `httpBody` inside `http {}`; resolves once every port in `ports` accepts connections. */
export async function startNginx(
  httpBody: string,
  ports: readonly number[],
  core?: number,
): Promise<NginxServer> {
  const nginx = findTool('nginx')
  if (!nginx) throw new Error('nginx is not installed: apt-get install -y nginx-light')
  const dir = mkdtempSync(join(tmpdir(), 'cutover-nginx-'))
  const conf = `daemon off;
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
`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const argv = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]
  // Benchmarks pin nginx to one core; tests let it run anywhere.
  const child = spawn(
    core === undefined ? nginx : 'taskset',
    core === undefined ? argv : ['-c', String(core), nginx, ...argv],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const server: NginxServer = {
    dir,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
  for (const port of ports) {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null)
        throw new Error(`nginx exited with ${child.exitCode}:\n${stderr}`)
      if (await accepts(port)) break
      if (i === 200) {
        await server.stop()
        throw new Error(`nginx did not listen on ${port} within 10 s:\n${stderr}`)
      }
      await delay(50)
    }
  }
  return server
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
