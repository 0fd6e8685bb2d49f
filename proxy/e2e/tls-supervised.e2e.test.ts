// End to end: the TLS listeners (HTTPS and DNS over TLS) of the supervised proxy
// with two workers, driven as operators do (`cutover start`, `restart`,
// `reload`, `check`) and seen through `openssl s_client`: sessions resume on
// either worker and after a restart; a reload serves new certificate files, and
// refuses a bad one; `check` refuses an expired one; the expiry gauge and the
// readiness warning.

import { type ChildProcess, spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type BindServer, startBind } from './support/bind.ts'
import { makeTestCa, opensslDate, type TestCa } from './support/certs.ts'
import { cutover, ROOT } from './support/cli.ts'
import { freePort } from './support/free-port.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'
import { findTool } from './support/tools.ts'
import { until } from './support/until.ts'
import { startUpstream, type TestUpstream, within } from './support/upstream.ts'

const ZONES = join(ROOT, 'proxy', 'e2e', 'zones')
const NAME = 'secure.e2e.test'
/**
 * The session ticket key rotation of the tests that watch one: longer than a
 * start takes, so the first key a test sees is most likely the one the workers
 * started with (the one a bug would bring back).
 */
const ROTATION = '8s'

let ca: TestCa
let bind: BindServer
let legacyHttp: TestUpstream
/** Where each test keeps the certificate files its proxy serves (they are rewritten for reloads). */
let dir: string
let proxy: SupervisedProxy | undefined

beforeAll(async () => {
  ca = makeTestCa()
  bind = await startBind([{ name: 'other.test', file: join(ZONES, 'other.test.zone') }], ZONES)
  legacyHttp = await startUpstream((_req, res) => res.end('legacy\n'))
})

afterAll(async () => {
  await Promise.all([bind?.stop(), legacyHttp?.stop()])
  ca?.remove()
})

const clients = new Set<ChildProcess>()

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-tls-'))
})

afterEach(() => {
  for (const c of clients) c.kill('SIGKILL')
  clients.clear()
  proxy?.cleanup()
  proxy = undefined
  rmSync(dir, { recursive: true, force: true })
})

interface Served {
  cert: string
  key: string
}

/** Copies an issued certificate to `<name>.pem` and `<name>.key` in the test's folder: the files the config names. */
function serve(issued: Served, name = 'served'): Served {
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
  copyFileSync(issued.cert, files.cert)
  copyFileSync(issued.key, files.key)
  return files
}

interface Ports {
  dot: number
  https: number
}

/**
 * `cutover start` with two workers, DNS over TLS and HTTPS presenting
 * `certificates`. A free port can be taken by another test file between being
 * picked and bound: then it starts again on new ones.
 */
async function start(
  certificates: Served[],
  tls: Record<string, unknown> = {},
): Promise<{ p: SupervisedProxy; ports: Ports }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePorts(certificates, tls)
    } catch (err) {
      if (attempt === 3 || !(err as Error).message.includes('EADDRINUSE')) throw err
    }
  }
}

async function startOnFreePorts(
  certificates: Served[],
  tls: Record<string, unknown>,
): Promise<{ p: SupervisedProxy; ports: Ports }> {
  const [dns, dot, http, https] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ]
  proxy = await startSupervised({
    workers: 2,
    tls: { certificates, ...tls },
    dns: {
      listen: `127.0.0.1:${dns}`,
      tls: { listen: `127.0.0.1:${dot}` },
      // s_client holds its connections open, asking nothing, while the test looks (here and on HTTPS).
      tcp: { idleTimeout: '60s' },
      zones: [{ name: 'e2e.test', file: join(ZONES, 'e2e.test.zone'), percent: 100 }],
      legacy: { servers: [`127.0.0.1:${bind.port}`] },
    },
    http: {
      listen: `127.0.0.1:${http}`,
      tls: { listen: `127.0.0.1:${https}` },
      legacy: { url: legacyHttp.url },
      limits: { headersTimeout: '60s' },
    },
  })
  return { p: proxy, ports: { dot, https } }
}

/** An `openssl s_client` connection held open until `close()`. */
interface Held {
  /** Its summary line, like "Reused, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384". */
  summary: string
  /** Ends its input; resolves with everything it printed once it exited. */
  close(): Promise<string>
}

/**
 * Starts `openssl s_client` to `port`, verifying the certificate for `NAME`
 * against the test CA (and asking for it by SNI unless `-noservername`).
 */
function spawnSClient(port: number, args: string[]) {
  const openssl = findTool('openssl')
  if (!openssl) throw new Error('openssl is not installed: apt-get install -y openssl')
  const sni = args.includes('-noservername') ? [] : ['-servername', NAME]
  const child = spawn(
    openssl,
    [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-CAfile',
      ca.caCert,
      '-verify_hostname',
      NAME,
      '-verify_return_error',
      ...sni,
      ...args,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  clients.add(child)
  let output = ''
  child.stdout.on('data', (d) => {
    output += d
  })
  child.stderr.on('data', (d) => {
    output += d
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    output: () => output,
    exited,
    /** Ends its input (it closes the connection and exits); resolves with all it printed. */
    async close(): Promise<string> {
      child.stdin.end()
      await within(exited, 5000, 'openssl s_client to exit')
      clients.delete(child)
      return output
    },
  }
}

/**
 * An s_client connection to `port`, once its handshake is done (with
 * `-sess_out`, once the session is saved: for TLS 1.3, when its ticket came).
 */
async function sClient(port: number, ...args: string[]): Promise<Held> {
  const c = spawnSClient(port, args)
  // s_client writes the session file when the session (a TLS 1.3 ticket: after the handshake) arrives.
  const sessionOut = args[args.indexOf('-sess_out') + 1]
  const saved = () =>
    !args.includes('-sess_out') ||
    (existsSync(sessionOut) &&
      readFileSync(sessionOut, 'utf8').includes('-----END SSL SESSION PARAMETERS-----'))
  const summary = () => /^(New|Reused), TLSv1\.\d.*$/m.exec(c.output())?.[0]
  const ready = () => summary() !== undefined && saved()
  await within(
    Promise.race([
      until(ready, 'the handshake', 10_000),
      c.exited.then(() => {
        if (!ready()) throw new Error('openssl s_client exited')
      }),
    ]),
    10_000,
    `openssl s_client ${args.join(' ')} to 127.0.0.1:${port}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; it printed:\n${c.output()}`)
  })
  return { summary: summary()!, close: c.close }
}

/** Everything s_client prints for a connection to `port` it has nothing to send on. */
function handshakeOnce(port: number, ...args: string[]): Promise<string> {
  return spawnSClient(port, args).close()
}

/**
 * Makes connections with `args`, `n` at a time, and holds them open until every
 * worker of the proxy reports one, so some are served by each; then closes them.
 */
async function acrossWorkers(
  p: SupervisedProxy,
  port: number,
  n: number,
  ...args: string[]
): Promise<{ summary: string; output: string }[]> {
  const held: Held[] = []
  const bothServe = async () => {
    const { workers } = await p.status()
    return workers.length === 2 && workers.every((w) => w.state === 'ready' && w.connections > 0)
  }
  // The kernel picks a worker by the connection's addresses: n more at a time until both have one.
  for (let round = 1; ; round++) {
    for (let i = 0; i < n; i++) held.push(await sClient(port, ...args))
    const spread = await until(bothServe, 'both workers to report a connection', 3000).then(
      () => true,
      () => false,
    )
    if (spread) break
    if (round === 5) throw new Error(`${held.length} connections, and not both workers had one`)
  }
  return Promise.all(held.map(async (h) => ({ summary: h.summary, output: await h.close() })))
}

/** The certificate an s_client output shows the server presented. */
function presented(output: string): X509Certificate {
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output)
  if (!pem) throw new Error(`no server certificate in:\n${output}`)
  return new X509Certificate(pem[0])
}

const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256

/** The name of the key a TLS 1.2 session ticket in an s_client output was made with (its first 16 bytes). */
function ticketKeyName(output: string): string {
  const line = /TLS session ticket:\n\s+0000 - ((?:[0-9a-f]{2}[ -]){15}[0-9a-f]{2})/.exec(output)
  if (!line) throw new Error(`no session ticket in:\n${output}`)
  return line[1].replace(/[ -]/g, '')
}

/** The key a new TLS 1.2 connection to `port` gets its ticket made with. */
async function ticketKey(port: number): Promise<string> {
  return ticketKeyName(await (await sClient(port, '-tls1_2')).close())
}

describe('session resumption', () => {
  it('resumes on either worker, and after a restart, over DNS over TLS and HTTPS', async () => {
    const { p, ports } = await start([serve(ca.issue('resume', [NAME]))])
    const cases = [
      { port: ports.dot, version: '-tls1_2', label: 'TLSv1.2' },
      { port: ports.dot, version: '-tls1_3', label: 'TLSv1.3' },
      { port: ports.https, version: '-tls1_2', label: 'TLSv1.2' },
      { port: ports.https, version: '-tls1_3', label: 'TLSv1.3' },
    ].map((c, i) => ({ ...c, session: join(dir, `session-${i}.pem`) }))

    for (const c of cases) {
      const first = await sClient(c.port, c.version, '-sess_out', c.session)
      expect(first.summary).toMatch(`New, ${c.label}, Cipher is`)
      await first.close()
      const again = await acrossWorkers(p, c.port, 4, c.version, '-sess_in', c.session)
      for (const a of again) expect(a.summary, a.output).toMatch(`Reused, ${c.label}, Cipher is`)
    }

    const restarted = await p.command('restart')
    expect(restarted.code, restarted.output).toBe(0)
    expect((await p.status()).generation).toBe(2)
    for (const c of cases) {
      const again = await acrossWorkers(p, c.port, 4, c.version, '-sess_in', c.session)
      for (const a of again) expect(a.summary, a.output).toMatch(`Reused, ${c.label}, Cipher is`)
    }
  }, 120_000)

  it('after a ticket key rotation, a restart’s workers make tickets with the current key', async () => {
    const { p, ports } = await start([serve(ca.issue('rotating', [NAME]))], {
      ticketRotation: ROTATION,
    })
    const firsts = [await ticketKey(ports.dot), await ticketKey(ports.https)]
    // Polled, not slept: the rotation is the supervisor's, on its own clock.
    await until(async () => (await ticketKey(ports.dot)) !== firsts[0], 'a key rotation', 20_000)
    const restarted = await p.command('restart')
    expect(restarted.code, restarted.output).toBe(0)
    // The new workers share the listening sockets with the old ones, but not their first key.
    for (const [i, port] of [ports.dot, ports.https].entries())
      for (const { output } of await acrossWorkers(p, port, 4, '-tls1_2'))
        expect(ticketKeyName(output)).not.toBe(firsts[i])
  }, 120_000)
})

describe('certificates on reload', () => {
  it('serves the new files on every worker after `cutover reload`, without a restart', async () => {
    const files = serve(ca.issue('before', [NAME]))
    const { p, ports } = await start([files])
    const before = fingerprint(files.cert)
    const pids = (await p.status()).workers.map((w) => w.pid)
    for (const port of [ports.dot, ports.https])
      for (const { output } of await acrossWorkers(p, port, 4))
        expect(presented(output).fingerprint256).toBe(before)

    const renewed = ca.issue('renewed', [NAME, `www.${NAME}`])
    serve(renewed)
    const after = fingerprint(renewed.cert)
    expect(after).not.toBe(before)
    const reloaded = await p.command('reload')
    expect(reloaded.code, reloaded.output).toBe(0)

    for (const port of [ports.dot, ports.https]) {
      for (const { output } of await acrossWorkers(p, port, 4)) {
        const cert = presented(output)
        expect(cert.fingerprint256).toBe(after)
        expect(cert.subjectAltName).toBe(`DNS:${NAME}, DNS:www.${NAME}`)
        expect(output).toContain('Verify return code: 0 (ok)')
      }
      // A client that names no host gets the new default too.
      for (const { output } of await acrossWorkers(p, port, 4, '-noservername'))
        expect(presented(output).fingerprint256).toBe(after)
    }
    const status = await p.status()
    expect(status.generation).toBe(1)
    expect(status.workers.map((w) => w.pid)).toEqual(pids)
  }, 120_000)

  it('refuses a key that is not the certificate’s, naming the file; the old certificate keeps serving', async () => {
    const files = serve(ca.issue('good', [NAME]))
    const { p, ports } = await start([files])
    const serving = fingerprint(files.cert)
    // A new certificate, and the key of another one beside it.
    copyFileSync(ca.issue('new', [NAME]).cert, files.cert)
    copyFileSync(ca.issue('stranger', [NAME]).key, files.key)
    const why = `tls.certificates[0] (${files.cert}): the key does not match the certificate`

    const refused = await p.command('reload')
    expect(refused.code).not.toBe(0)
    expect(refused.output).toContain(why)

    // Asked directly (SIGHUP, as a service manager reloads), the proxy refuses it too.
    const reloads = (await p.status()).reloads
    process.kill(p.run.child.pid!, 'SIGHUP')
    await until(async () => (await p.status()).reloads > reloads, 'the reload to finish', 30_000)
    const { lastReload } = await p.status()
    expect(lastReload?.ok).toBe(false)
    expect(lastReload?.error).toContain(why)

    for (const port of [ports.dot, ports.https])
      for (const { output } of await acrossWorkers(p, port, 4))
        expect(presented(output).fingerprint256).toBe(serving)
  }, 120_000)

  it('keeps tls.minVersion through a reload', async () => {
    const { p, ports } = await start([serve(ca.issue('strict', [NAME]))], {
      minVersion: 'TLSv1.3',
    })
    serve(ca.issue('strict-renewed', [NAME]))
    const reloaded = await p.command('reload')
    expect(reloaded.code, reloaded.output).toBe(0)
    for (const port of [ports.dot, ports.https]) {
      const modern = await sClient(port, '-tls1_3')
      expect(modern.summary).toMatch('New, TLSv1.3')
      await modern.close()
      // Connections are dealt to the workers in turn: four reach both.
      for (let i = 0; i < 4; i++) {
        for (const sni of [[], ['-noservername']]) {
          const out = await handshakeOnce(port, '-tls1_2', ...sni)
          expect(out).toContain('alert protocol version')
          expect(out).not.toMatch(/^New, TLSv1\.2/m)
        }
      }
    }
  }, 120_000)

  it('keeps the current ticket key through a reload', async () => {
    const { p, ports } = await start([serve(ca.issue('keyed', [NAME]))], {
      ticketRotation: ROTATION,
    })
    const firsts = [await ticketKey(ports.dot), await ticketKey(ports.https)]
    await until(async () => (await ticketKey(ports.dot)) !== firsts[0], 'a key rotation', 20_000)
    serve(ca.issue('keyed-renewed', [NAME]))
    const reloaded = await p.command('reload')
    expect(reloaded.code, reloaded.output).toBe(0)
    for (const [i, port] of [ports.dot, ports.https].entries())
      for (const { output } of await acrossWorkers(p, port, 4, '-tls1_2'))
        expect(ticketKeyName(output)).not.toBe(firsts[i])
  }, 120_000)
})

describe('cutover check', () => {
  /** A config serving DNS over TLS with `cert`, written to the test's folder. */
  const configWith = (cert: Served) => {
    const file = join(dir, 'check.yaml')
    writeFileSync(
      file,
      stringify({
        tls: { certificates: [cert] },
        dns: {
          listen: '127.0.0.1:5300',
          tls: { listen: '127.0.0.1:8530' },
          legacy: { servers: ['127.0.0.1:5301'] },
        },
      }),
    )
    return file
  }

  it('exits non-zero for an expired certificate, saying which and when it expired', async () => {
    const expired = serve(
      ca.issue('expired', [NAME], { from: opensslDate(-30), until: opensslDate(-1) }),
    )
    const { code, out } = await cutover(['check', '--config', configWith(expired)])
    expect(code).not.toBe(0)
    expect(out).toContain(`tls.certificates[0] (${expired.cert}): the certificate expired on`)
    expect(out).toContain('renew it')
  })

  it('passes the same config with a valid certificate, listing it', async () => {
    const valid = serve(ca.issue('valid', [NAME]))
    const { code, out } = await cutover(['check', '--config', configWith(valid)])
    expect(code, out).toBe(0)
    expect(out).toMatch(new RegExp(`tls\\s+${NAME.replaceAll('.', '\\.')}\\s+until`))
  })
})

describe('expiry', () => {
  it('the supervisor shows each certificate’s remaining life once, and /readyz warns of one ending within 7 days', async () => {
    const soonName = `soon.${NAME}`
    const soon = serve(ca.issue('soon', [soonName], { until: opensslDate(3) }), 'soon')
    const year = serve(ca.issue('year', [NAME]), 'year')
    const { p } = await start([year, soon])

    const left = (file: string) =>
      (Date.parse(new X509Certificate(readFileSync(file)).validTo) - Date.now()) / 1000
    const expiry = (name: string) => p.metric('cutover_tls_certificate_expiry_seconds', { name })
    // One value per certificate, as long as it has left (not the sum of two workers').
    expect(Math.abs((await expiry(soonName)) - left(soon.cert))).toBeLessThan(120)
    expect(Math.abs((await expiry(NAME)) - left(year.cert))).toBeLessThan(120)
    expect(left(soon.cert)).toBeGreaterThan(2.9 * 86_400)

    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${p.adminPort}/readyz`)
      return { status: res.status, body: (await res.json()) as { warnings: string[] } }
    }
    // The workers report what they warn of with their counters.
    await until(async () => (await readyz()).body.warnings.length > 0, 'a warning', 5000)
    const { status, body } = await readyz()
    expect(status).toBe(200)
    expect(body.warnings).toHaveLength(1)
    expect(body.warnings[0]).toMatch(new RegExp(`certificate ${soonName} expires in 3\\.0 days`))
  }, 60_000)
})
