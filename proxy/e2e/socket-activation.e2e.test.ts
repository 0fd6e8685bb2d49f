// Socket activation as systemd does it, with systemd's own test launcher
// (systemd-socket-activate): the sockets are bound and listening before
// cutover runs, and a query and a request sent before it started are
// answered by it. Two launchers in a row pass UDP and TCP sockets together,
// as a .socket unit with ListenDatagram= and ListenStream= does. A socket no
// listener of the config has is refused, naming it.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import type { SupervisorStatus } from '../process/supervisor.ts'
import { type CliRun, cutover, runCli, waitForOutput } from './support/cli.ts'
import { freePort } from './support/free-port.ts'
import { rawExchange } from './support/raw-http.ts'
import { NEW_HOST, proxyConfig, supervisedTestBed } from './support/restart-load.ts'
import { findTool } from './support/tools.ts'

const bed = supervisedTestBed()
const runs: CliRun[] = []
const dirs: string[] = []

afterEach(() => {
  for (const r of runs.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL')
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function activator(): string {
  const found = findTool('systemd-socket-activate')
  if (!found) throw new Error('systemd-socket-activate is missing: apt-get install systemd')
  return found
}

/** A config file for the backends on these ports, in a folder of its own. */
function configFile(dnsPort: number, httpPort: number, adminPort: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-activation-'))
  dirs.push(dir)
  const file = join(dir, 'cutover.yaml')
  writeFileSync(
    file,
    stringify({
      ...proxyConfig(bed.backends(), dnsPort, httpPort),
      admin: { listen: `127.0.0.1:${adminPort}` },
      log: { level: 'info' },
      state: join(dir, 'state'),
    }),
  )
  return file
}

async function answerOf(port: number): Promise<string[]> {
  const reply = await exchange(
    { host: '127.0.0.1', port },
    buildQuery({ name: 'www.e2e.test', type: Type.A }),
    'udp',
    5000,
  )
  return decodeMessage(reply).answer.map((r) => r.data)
}

describe('systemd socket activation (LISTEN_FDS)', () => {
  it('serves the sockets systemd bound, and what reached them before it started', async () => {
    const [dnsPort, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()]
    const file = configFile(dnsPort, httpPort, adminPort)
    const at = (port: number) => `127.0.0.1:${port}`
    const run = runCli(
      ['start', '--config', file],
      [
        activator(),
        '--datagram',
        '-l',
        at(dnsPort),
        activator(),
        '-l',
        at(dnsPort),
        '-l',
        at(httpPort),
        '-l',
        at(adminPort),
      ],
    )
    runs.push(run)
    // Sent while nothing of cutover runs yet: the query starts the second launcher, which
    // binds the TCP sockets and, the query still unread, cutover at once.
    await waitForOutput(run, `Listening on ${at(dnsPort)}`)
    const early = answerOf(dnsPort)
    await waitForOutput(run, `Listening on ${at(adminPort)}`)
    const request = rawExchange(
      httpPort,
      `GET / HTTP/1.1\r\nhost: ${NEW_HOST}\r\nconnection: close\r\n\r\n`,
    )
    expect((await early).sort()).toEqual(['192.0.2.10', '192.0.2.11'])
    const { response } = await request
    expect(response.status).toBe(200)
    expect(response.one('x-path')).toBe('new')
    await waitForOutput(run, 'cutover is serving')
    // systemd bound them without SO_REUSEPORT: not split per worker, dealt instead.
    expect(run.output()).toContain('this socket was bound without SO_REUSEPORT')

    const status = (await (
      await fetch(`http://${at(adminPort)}/workers`)
    ).json()) as SupervisorStatus
    // The launchers exec'd in place: the supervisor is the process they were.
    expect(status.pid).toBe(run.child.pid)
    expect(status.workers.map((w) => w.state)).toEqual(['ready', 'ready'])

    const restarted = await cutover(['restart', '--config', file])
    expect(restarted.code, restarted.out).toBe(0)
    expect((await answerOf(dnsPort)).sort()).toEqual(['192.0.2.10', '192.0.2.11'])
    const stopped = await cutover(['stop', '--config', file])
    expect(stopped.code, stopped.out).toBe(0)
    expect(await run.exited).toBe(0)
  }, 90_000)

  it('refuses a socket no listener of the config has, naming it', async () => {
    const [dnsPort, httpPort, adminPort, stray] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ]
    const file = configFile(dnsPort, httpPort, adminPort)
    const run = runCli(['start', '--config', file], [activator(), '-l', `127.0.0.1:${stray}`])
    runs.push(run)
    // The launcher starts cutover on the first connection.
    await waitForOutput(run, `Listening on 127.0.0.1:${stray}`)
    await fetch(`http://127.0.0.1:${stray}/`).catch(() => undefined)
    expect(await run.exited).toBe(2)
    expect(run.output()).toContain(
      `systemd passed a TCP socket on 127.0.0.1:${stray} that no listener of ${file} has`,
    )
  }, 60_000)
})
