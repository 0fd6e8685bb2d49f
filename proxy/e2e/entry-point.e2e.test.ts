// The real entry point, run by Node itself (type stripping, not vitest's
// transpiler): `cutover start` / `stop`, `quickstart`, `check`, and the exit
// codes and messages a user sees.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { Flag, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { killCliRuns, ROOT, runCli as run, waitForOutput as waitFor } from './support/cli.ts'
import { freePort } from './support/free-port.ts'

const dirs: string[] = []

afterEach(() => {
  killCliRuns()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cutover-cli-'))
  dirs.push(d)
  return d
}

describe('cutover start and stop', () => {
  it('serves DNS from the config given, and stops on `cutover stop` with exit 0', async () => {
    const dir = tempDir()
    const legacyPort = await freePort()
    const config = join(dir, 'cutover.yaml')
    writeFileSync(
      config,
      stringify({
        dns: {
          listen: '127.0.0.1:0',
          zones: [
            {
              name: 'example.test',
              file: join(ROOT, 'examples', 'zones', 'example.test.zone'),
              percent: 100,
            },
          ],
          legacy: { servers: [`127.0.0.1:${legacyPort}`] },
        },
        admin: { listen: '127.0.0.1:0' },
        state: join(dir, 'state'),
      }),
    )
    const proxy = run(['start', '--config', config])
    await waitFor(proxy, 'cutover is serving')
    const line = proxy
      .output()
      .split('\n')
      .find((l) => l.includes('cutover is serving'))!
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(JSON.parse(line).dns)![1])
    const reply = decodeMessage(
      await exchange(
        { host: '127.0.0.1', port },
        buildQuery({ name: 'www.example.test', type: Type.A }),
        'udp',
      ),
    )
    expect(reply.flags & Flag.AA).toBe(Flag.AA)
    expect(reply.answer.map((r) => r.data)).toEqual(['192.0.2.10'])
    expect(readFileSync(join(dir, 'state', 'cutover.pid'), 'utf8').trim()).toBe(
      String(proxy.child.pid),
    )

    const stop = run(['stop', '--config', config])
    expect(await stop.exited).toBe(0)
    expect(stop.output()).toContain('stopped')
    expect(await proxy.exited).toBe(0)
  })

  it('runs the quickstart supervised: new path for example.test, demo legacy for the rest; reload works on it', async () => {
    const dir = tempDir()
    const quickstart = parse(readFileSync(join(ROOT, 'examples', 'quickstart.yaml'), 'utf8'))
    const [dnsPort, legacyPort, adminPort] = [await freePort(), await freePort(), await freePort()]
    quickstart.dns.listen = `127.0.0.1:${dnsPort}`
    quickstart.dns.legacy.servers = [`127.0.0.1:${legacyPort}`]
    quickstart.dns.zones[0].file = join(ROOT, 'examples', 'zones', 'example.test.zone')
    quickstart.admin.listen = `127.0.0.1:${adminPort}`
    quickstart.state = join(dir, 'state')
    const file = join(dir, 'quickstart.yaml')
    writeFileSync(file, stringify(quickstart))
    const demo = run(['quickstart', '--config', file])
    await waitFor(demo, 'Try it:')
    expect(demo.output()).toContain(`dig @127.0.0.1 -p ${dnsPort} www.example.test`)
    const token = readFileSync(join(dir, 'state', 'admin-token'), 'utf8').trim()
    expect(demo.output()).toContain(
      `console: http://127.0.0.1:${adminPort}/  sign in with the admin token ${token}`,
    )
    const workers = (await (await fetch(`http://127.0.0.1:${adminPort}/workers`)).json()) as {
      workers: unknown[]
    }
    expect(workers.workers).toHaveLength(2)
    const reload = run(['reload', '--config', file])
    expect(await reload.exited).toBe(0)
    const at = { host: '127.0.0.1', port: dnsPort }
    const migrated = decodeMessage(
      await exchange(at, buildQuery({ name: 'www.example.test', type: Type.A }), 'udp'),
    )
    expect(migrated.flags & Flag.AA).toBe(Flag.AA)
    const legacy = decodeMessage(
      await exchange(at, buildQuery({ name: 'www.legacy.test', type: Type.A }), 'tcp'),
    )
    expect(legacy.rcode).toBe(Rcode.NOERROR)
    expect(legacy.answer.map((r) => r.data)).toEqual(['192.0.2.110'])
    demo.child.kill('SIGINT')
    expect(await demo.exited).toBe(0)
  })
})

describe('configuration errors', () => {
  it('exits 2 naming the key and what was expected', async () => {
    const dir = tempDir()
    const config = join(dir, 'bad.yaml')
    writeFileSync(
      config,
      'dns:\n  listen: localhost:53\n  legacy:\n    servers: []\n    timeout: 2 seconds\n',
    )
    const check = run(['check', '--config', config])
    expect(await check.exited).toBe(2)
    expect(check.output()).toContain(
      'dns.listen: expected an IP address and port like "127.0.0.1:5300"',
    )
    expect(check.output()).toContain('dns.legacy.servers: list at least one legacy DNS server')
    expect(check.output()).toContain('dns.legacy.timeout: expected a duration like "500ms"')
  })

  it('exits 2 when a zone file has a syntax error, naming file, line and token', async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, 'bad.zone'),
      '$TTL 60\n@ IN SOA ns1 host 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 300.1.1.1\n',
    )
    writeFileSync(
      join(dir, 'cutover.yaml'),
      stringify({
        dns: {
          listen: '127.0.0.1:0',
          zones: [{ name: 'bad.test', file: 'bad.zone', percent: 100 }],
          legacy: { servers: ['127.0.0.1:9'] },
        },
      }),
    )
    const check = run(['check', '--config', join(dir, 'cutover.yaml')])
    expect(await check.exited).toBe(2)
    expect(check.output()).toContain(`${join(dir, 'bad.zone')}:4:`)
    expect(check.output()).toContain("'300.1.1.1'")
  })

  it('exits 2 with the usage when a command or option is unknown', async () => {
    const unknown = run(['launch'])
    expect(await unknown.exited).toBe(2)
    expect(unknown.output()).toContain("unknown command 'launch'")
    const noConfig = run(['start'])
    expect(await noConfig.exited).toBe(2)
    expect(noConfig.output()).toContain('needs --config FILE')
  })
})

describe('every command, used wrong', () => {
  const COMMANDS = [
    'start',
    'stop',
    'restart',
    'reload',
    'upgrade',
    'check',
    'quickstart',
    'rollout',
    'diff',
  ]
  const noStack = (out: string) => expect(out).not.toMatch(/\n\s+at .+:\d+:\d+/)

  it("--help prints that command's usage and exits 0", async () => {
    for (const command of COMMANDS) {
      const help = run([command, '--help'])
      expect({ command, code: await help.exited }).toEqual({ command, code: 0 })
      expect(help.output(), command).toContain(`usage: cutover ${command}`)
    }
  })

  it('a wrong flag, a config that is missing or malformed, or a proxy that is not running: exit 2 naming the cause, never a stack trace', async () => {
    const dir = tempDir()
    const malformed = join(dir, 'malformed.yaml')
    writeFileSync(malformed, 'dns: [unclosed\n')
    const stopped = join(dir, 'stopped.yaml')
    writeFileSync(
      stopped,
      stringify({
        admin: { listen: `127.0.0.1:${await freePort()}` },
        state: join(dir, 'state'),
        dns: { listen: '127.0.0.1:0', legacy: { servers: ['127.0.0.1:9'] } },
      }),
    )
    // A pid file left by a proxy that is gone.
    mkdirSync(join(dir, 'state'))
    writeFileSync(join(dir, 'state', 'cutover.pid'), '999999\n')
    // A state folder that cannot be made: a file stands where it would be.
    writeFileSync(join(dir, 'not-a-folder'), '')
    const unwritable = join(dir, 'unwritable.yaml')
    writeFileSync(
      unwritable,
      stringify({
        state: join(dir, 'not-a-folder', 'state'),
        dns: { listen: '127.0.0.1:0', legacy: { servers: ['127.0.0.1:9'] } },
      }),
    )
    const cases: [string[], RegExp][] = [
      ...COMMANDS.filter((c) => c !== 'diff').map((c): [string[], RegExp] => [
        [c, '--bogus'],
        /Unknown option '--bogus'/,
      ]),
      [['diff', 'suite.yaml', '--bogus'], /Unknown option '--bogus'/],
      [['check', '--config', join(dir, 'missing.yaml')], /missing\.yaml/],
      [['start', '--config', join(dir, 'missing.yaml')], /missing\.yaml/],
      [['check', '--config', malformed], /malformed\.yaml/],
      [
        ['start', '--config', unwritable],
        /the state folder .*not-a-folder\/state cannot be written \(ENOTDIR.*set `state:` to a folder that can/,
      ],
      [['reload', '--config', stopped], /cutover is not running: .*cutover\.pid names pid 999999/],
      [['restart', '--config', stopped], /cutover is not running/],
      [
        ['rollout', 'status', '--config', stopped],
        /cannot reach the admin API .*is the proxy running/,
      ],
    ]
    for (const [args, cause] of cases) {
      const r = run(args)
      const code = await r.exited
      expect({ args, code }).toEqual({ args, code: 2 })
      expect(r.output(), args.join(' ')).toMatch(cause)
      noStack(r.output())
    }
  })
})
