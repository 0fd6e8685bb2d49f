// End to end: DNS over TLS (RFC 7858) on the in-process proxy, with
// certificates from a CA the test makes, in front of a real BIND 9 legacy: the
// real `dig +tls` gets what plain TCP gets on both paths; queries pipelined on
// one connection; the idle timeout; SNI choosing the certificate; TLS 1.1
// refused; the connection gauge.

import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Type } from '../../dns/constants.ts'
import { buildQuery, decodeMessage } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { makeTestCa, type TestCa } from './support/certs.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'
import { findTool } from './support/tools.ts'
import { until } from './support/until.ts'
import { within } from './support/upstream.ts'

const ZONES = join(import.meta.dirname, 'zones')
/** The certificate for the DNS-over-TLS name, the default for a client that names none. */
const DOT_NAME = 'dns.e2e.test'
/** A second certificate, served only to clients that ask for its name. */
const OTHER_NAME = 'dot.other.test'

const run = promisify(execFile)

let ca: TestCa
let caPem: string
let bind: BindServer
let proxy: TestProxy

/** A proxy serving e2e.test on the new path and the rest from BIND, over UDP, TCP and TLS. */
function startDot(tcp: Record<string, unknown> = {}): Promise<TestProxy> {
  const other = ca.issue('other', [OTHER_NAME])
  const dot = ca.issue('dot', [DOT_NAME])
  return startTestProxy({
    tls: { certificates: [other, dot], default: 1 },
    dns: {
      listen: '127.0.0.1:0',
      tls: { listen: '127.0.0.1:0' },
      tcp,
      zones: [{ name: 'e2e.test', file: join(ZONES, 'e2e.test.zone'), percent: 100 }],
      legacy: { servers: [`127.0.0.1:${bind.port}`], timeout: '2s' },
      // Every legacy answer comes from BIND, with BIND's TTLs.
      packetcache: { enabled: false },
    },
  })
}

beforeAll(async () => {
  ca = makeTestCa()
  caPem = readFileSync(ca.caCert, 'utf8')
  bind = await startBind([{ name: 'other.test', file: join(ZONES, 'other.test.zone') }], ZONES)
  proxy = await startDot()
})

afterAll(async () => {
  await proxy?.stop()
  await bind?.stop()
  ca?.remove()
})

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const idOf = (msg: Buffer) => msg.readUInt16BE(0)
const q = (id: number, name: string) => buildQuery({ id, name, type: Type.A, rd: false })

/** What the proxy answers for `query` over plain TCP. */
const overTcp = (query: Buffer) =>
  exchange({ host: '127.0.0.1', port: proxy.dnsPort }, query, 'tcp', 3000)

function frame(msg: Buffer): Buffer {
  const out = Buffer.alloc(msg.length + 2)
  out.writeUInt16BE(msg.length, 0)
  msg.copy(out, 2)
  return out
}

/** A TLS handshake with the proxy's DNS-over-TLS port; rejects with the handshake's error. */
function handshake(port: number, options: ConnectionOptions): Promise<TLSSocket> {
  const socket = connect({ host: '127.0.0.1', port, ca: caPem, ALPNProtocols: ['dot'], ...options })
  cleanups.push(() => socket.destroy())
  return within(
    new Promise<TLSSocket>((resolve, reject) => {
      socket.once('secureConnect', () => resolve(socket))
      socket.once('error', reject)
    }),
    5000,
    'the TLS handshake',
  )
}

/** A DNS-over-TLS client that keeps every reply and notes how the connection ends. */
class DotClient {
  readonly replies: Buffer[] = []
  /** The server ended the connection (its FIN or close_notify), not this client. */
  ended = false
  readonly closed: Promise<number>
  readonly socket: TLSSocket
  #buf = Buffer.alloc(0)

  constructor(socket: TLSSocket) {
    this.socket = socket
    socket.on('error', () => {})
    socket.on('end', () => {
      this.ended = true
    })
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(performance.now())))
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk])
      while (this.#buf.length >= 2 && this.#buf.length >= 2 + this.#buf.readUInt16BE(0)) {
        const length = this.#buf.readUInt16BE(0)
        this.replies.push(Buffer.from(this.#buf.subarray(2, 2 + length)))
        this.#buf = this.#buf.subarray(2 + length)
      }
    })
  }

  static async open(port: number): Promise<DotClient> {
    return new DotClient(await handshake(port, { servername: DOT_NAME }))
  }

  /** Writes the queries, length-prefixed, in one write. */
  send(...queries: Buffer[]): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(Buffer.concat(queries.map(frame)), (err) =>
        err ? reject(err) : resolve(),
      ),
    )
  }

  async waitReplies(n: number): Promise<void> {
    await until(() => this.replies.length >= n, `${n} replies over TLS`, 5000)
  }
}

/** `dig` against the proxy on `port`, its output without what differs between two runs (the ID). */
async function dig(port: number, name: string, ...options: string[]): Promise<string> {
  const bin = findTool('dig')
  if (!bin) throw new Error('dig is not installed: apt-get install -y bind9-dnsutils')
  const { stdout } = await run(bin, [
    '@127.0.0.1',
    '-p',
    String(port),
    name,
    'A',
    '+norecurse',
    '+nocookie',
    '+nocmd',
    '+nostats',
    '+time=3',
    '+tries=1',
    ...options,
  ])
  return stdout.replace(/, id: \d+/, '')
}

describe('dig +tls', () => {
  const tls = () => ['+tls', `+tls-ca=${ca.caCert}`, `+tls-hostname=${DOT_NAME}`]

  it('gets the new path’s answer, as over plain TCP', async () => {
    const overTls = await dig(proxy.dotPort, 'www.e2e.test', ...tls())
    expect(overTls).toContain('status: NOERROR')
    expect(overTls).toMatch(/flags: qr aa;/)
    expect(overTls).toMatch(/www\.e2e\.test\.\s+3600\s+IN\s+A\s+192\.0\.2\.10/)
    expect(overTls).toBe(await dig(proxy.dnsPort, 'www.e2e.test', '+tcp'))
  })

  it('gets the legacy’s answer for a name outside the zones, as over plain TCP', async () => {
    const overTls = await dig(proxy.dotPort, 'www.other.test', ...tls())
    expect(overTls).toContain('status: NOERROR')
    expect(overTls).toMatch(/www\.other\.test\.\s+600\s+IN\s+A\s+192\.0\.2\.210/)
    expect(overTls).toBe(await dig(proxy.dnsPort, 'www.other.test', '+tcp'))
  })

  it('is told the certificate does not name the host it asked for', async () => {
    const out = await dig(
      proxy.dotPort,
      'www.e2e.test',
      '+tls',
      `+tls-ca=${ca.caCert}`,
      '+tls-hostname=not-served.test',
    )
    expect(out).toContain('failed: hostname mismatch')
    expect(out).not.toContain('192.0.2.10')
  })
})

describe('one connection', () => {
  it('answers pipelined queries on both paths, each as plain TCP does, matched by ID', async () => {
    const client = await DotClient.open(proxy.dotPort)
    expect(client.socket.alpnProtocol).toBe('dot')
    const names = [
      'www.e2e.test',
      'www.other.test',
      'mail.e2e.test',
      'ns1.other.test',
      'alias.e2e.test',
      'missing.e2e.test',
      'short.other.test',
      'big.e2e.test',
    ]
    const queries = Array.from({ length: 24 }, (_, i) => q(0x2000 + i, names[i % names.length]))
    await client.send(...queries)
    await client.waitReplies(queries.length)
    expect(client.replies).toHaveLength(queries.length)
    for (const query of queries) {
      const reply = client.replies.find((r) => idOf(r) === idOf(query))
      const name = decodeMessage(query).questions[0].name
      expect(reply, name).toBeDefined()
      expect(reply!.equals(await overTcp(query)), name).toBe(true)
    }
    // The legacy's answers came through BIND, not from the zones.
    const legacy = client.replies.find((r) => idOf(r) === 0x2001)!
    expect(decodeMessage(legacy).answer.map((r) => r.data)).toEqual(['192.0.2.210'])
  })

  it('is closed by the server once idle for dns.tcp.idleTimeout', async () => {
    const idle = await startDot({ idleTimeout: '300ms' })
    cleanups.push(() => idle.stop())
    const client = await DotClient.open(idle.dotPort)
    await client.send(q(7, 'www.e2e.test'))
    await client.waitReplies(1)
    const answered = performance.now()
    const closed = await within(client.closed, 3000, 'the server closing the idle connection')
    expect(client.ended).toBe(true)
    expect(closed - answered).toBeGreaterThanOrEqual(250)
  })

  it('counts in cutover_open_connections{protocol="dns"} while open', async () => {
    const open = () => proxy.metric('cutover_open_connections', { protocol: 'dns' })
    // Connections of earlier tests (dig's) are gone once the proxy saw them close.
    await until(async () => (await open()) === 0, 'no DNS connection open', 5000)
    const client = await DotClient.open(proxy.dotPort)
    await client.send(q(8, 'www.e2e.test'))
    await client.waitReplies(1)
    expect(await open()).toBe(1)
    client.socket.destroy()
    await until(async () => (await open()) === 0, 'the connection counted out', 5000)
  })
})

describe('the handshake', () => {
  /** The CN of the certificate the proxy presents to a client asking for `servername`. */
  const certificateFor = async (servername: string | undefined) => {
    const socket = await handshake(proxy.dotPort, {
      servername,
      // The default certificate cannot name 127.0.0.1; the chain is still checked.
      checkServerIdentity: () => undefined,
    })
    expect(socket.authorized).toBe(true)
    return socket.getPeerCertificate().subject.CN
  }

  it('presents the certificate for the name the client asks for (SNI)', async () => {
    expect(await certificateFor(OTHER_NAME)).toBe(OTHER_NAME)
    expect(await certificateFor(DOT_NAME)).toBe(DOT_NAME)
    expect(await certificateFor('DNS.E2E.TEST')).toBe(DOT_NAME)
  })

  it('presents the default certificate to a client that names none, or a name not served', async () => {
    expect(await certificateFor(undefined)).toBe(DOT_NAME)
    expect(await certificateFor('unknown.test')).toBe(DOT_NAME)
  })

  it('refuses TLS 1.1, and the same client gets TLS 1.2', async () => {
    // OpenSSL 3 keeps TLS 1.1 off at its default security level, in clients too.
    const old: ConnectionOptions = {
      servername: DOT_NAME,
      ciphers: 'DEFAULT@SECLEVEL=0',
      minVersion: 'TLSv1.1',
    }
    const refused = await handshake(proxy.dotPort, { ...old, maxVersion: 'TLSv1.1' }).then(
      () => undefined,
      (err: NodeJS.ErrnoException) => err.code,
    )
    expect(refused).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION')
    const allowed = await handshake(proxy.dotPort, { ...old, maxVersion: 'TLSv1.2' })
    expect(allowed.getProtocol()).toBe('TLSv1.2')
  })
})
