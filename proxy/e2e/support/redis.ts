// Runs a real Redis on loopback for a test: no persistence, a free port; stopped
// by the test.

import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { freePort } from './free-port.ts'
import { findTool } from './tools.ts'

export interface RedisServer {
  url: string
  port: number
  stop(): Promise<void>
}

export async function startRedis(): Promise<RedisServer> {
  const bin = findTool('redis-server')
  if (!bin) throw new Error('redis-server is not installed: apt-get install -y redis-server')
  const port = await freePort()
  const child = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
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
