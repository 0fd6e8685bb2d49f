// Runs a real Redis on loopback for a test: a free port (or the one given), no
// persistence unless a folder is given for its append-only file (then a Redis
// started again on the same port and folder has the data back); stopped by the test.

import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { freePort } from './free-port.ts'
import { findTool } from './tools.ts'

export interface RedisServer {
  url: string
  port: number
  /** SIGKILL: gone at once, as a crash; start another on the same port and folder to have its data back. */
  kill(): Promise<void>
  stop(): Promise<void>
}

export async function startRedis(
  options: { port?: number; persistIn?: string } = {},
): Promise<RedisServer> {
  const bin = findTool('redis-server')
  if (!bin) throw new Error('redis-server is not installed: apt-get install -y redis-server')
  const port = options.port ?? (await freePort())
  const persistence = options.persistIn
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.persistIn]
    : ['--appendonly', 'no']
  const child = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...persistence,
      '--protected-mode',
      'no',
    ],

    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout?.on('data', (d) => {
    output += d
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL')
      await exited
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null)
      throw new Error(`redis-server exited with ${child.exitCode}:\n${output}`)
    if (await pong(port)) return server
    await delay(50)
  }
  await server.stop()
  throw new Error(`redis-server did not answer PING within 10 s:\n${output}`)
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => s.write('PING\r\n'))
    s.once('data', (d) => {
      s.destroy()
      resolve(d.toString().startsWith('+PONG'))
    })
    s.once('error', () => resolve(false))
  })
}
