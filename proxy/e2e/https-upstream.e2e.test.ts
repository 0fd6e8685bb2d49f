// End to end against a real nginx serving HTTPS as the legacy and as a site's
// origin: cutover checks the upstream's certificate against the configured CA
// and name, sends that name as SNI, shows a client certificate when it has one,
// speaks HTTP/2 when asked, and a certificate it cannot trust is a 502,
// counted as a TLS failure and logged with why and what to fix.

import { pino } from 'pino'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type IssuedCertificate, makeTestCa, opensslDate, type TestCa } from './support/certs.ts'
import { freePort } from './support/free-port.ts'
import { type NginxServer, startNginx } from './support/nginx.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'

let ca: TestCa
let nginx: NginxServer
/**
 * nginx's HTTPS servers: the legacy, an origin that also offers h2, one that
 * asks for a client certificate, one whose certificate has expired.
 */
const port = { legacy: 0, origin: 0, mtls: 0, expired: 0 }
/** cutover with a legacy it trusts, and sites reaching the origin every way the tests need. */
let proxy: TestProxy
/** cutover with a legacy whose CA it was not given. */
let untrusting: TestProxy
/** The log lines of both proxies, parsed. */
const logged: Record<string, unknown>[] = []

/**
 * What each nginx server answers: what it saw of the TLS connection and of the
 * request; and the number of the connection it came on, in X-Connection.
 */
function server(name: string, listen: string, cert: IssuedCertificate, extra = ''): string {
  return `
  server {
    listen 127.0.0.1:${listen};
    ssl_certificate ${cert.cert};
    ssl_certificate_key ${cert.key};
    ${extra}
    location / {
      default_type text/plain;
      add_header X-Connection $connection;
      return 200 "${name} sni=[$ssl_server_name] proto=$server_protocol client=$ssl_client_verify xfp=$http_x_forwarded_proto host=$host\\n";
    }
  }`
}

/** One site per way of reaching the origin, named for it. */
function sites(clientCert: IssuedCertificate) {
  const origin = `https://127.0.0.1:${port.origin}`
  const trusted = { ca: ca.caCert, servername: 'origin.test' }
  const site = (host: string, upstream: Record<string, unknown>) => ({
    host,
    origin: upstream,
    percent: 100,
  })
  return [
    site('www.example.test', { url: origin, tls: trusted }),
    site('by-url-name.example.test', {
      url: `https://localhost:${port.origin}`,
      tls: { ca: ca.caCert },
    }),
    site('by-ip.example.test', { url: origin, tls: { ca: ca.caCert } }),
    site('no-ca.example.test', { url: origin, tls: { servername: 'origin.test' } }),
    site('wrong-name.example.test', { url: origin, tls: { ...trusted, servername: 'other.test' } }),
    site('insecure.example.test', { url: origin, tls: { insecure: true } }),
    site('h2.example.test', { url: origin, tls: trusted, http2: true }),
    site('mtls.example.test', {
      url: `https://127.0.0.1:${port.mtls}`,
      tls: { ...trusted, cert: clientCert.cert, key: clientCert.key },
    }),
    site('mtls-anonymous.example.test', { url: `https://127.0.0.1:${port.mtls}`, tls: trusted }),
    site('expired.example.test', { url: `https://127.0.0.1:${port.expired}`, tls: trusted }),
  ]
}

beforeAll(async () => {
  ca = makeTestCa()
  const legacyCert = ca.issue('legacy', ['legacy.test'])
  const originCert = ca.issue('origin', ['origin.test', 'localhost'])
  const expiredCert = ca.issue('expired', ['origin.test'], {
    from: opensslDate(-30),
    until: opensslDate(-1),
  })
  const clientCert = ca.issue('client', ['cutover.test'])
  for (const name of Object.keys(port) as (keyof typeof port)[]) port[name] = await freePort()
  nginx = await startNginx(
    server('legacy', `${port.legacy} ssl`, legacyCert) +
      server('origin', `${port.origin} ssl http2`, originCert) +
      server(
        'mtls',
        `${port.mtls} ssl`,
        originCert,
        `ssl_verify_client on; ssl_client_certificate ${ca.caCert};`,
      ) +
      server('expired', `${port.expired} ssl`, expiredCert),
    Object.values(port),
  )
  const log = pino(
    { level: 'warn' },
    {
      write(line: string) {
        logged.push(JSON.parse(line))
      },
    },
  )
  proxy = await startTestProxy(
    {
      http: {
        listen: '127.0.0.1:0',
        legacy: {
          url: `https://127.0.0.1:${port.legacy}`,
          tls: { ca: ca.caCert, servername: 'legacy.test' },
        },
        doh: false,
        sites: sites(clientCert),
      },
    },
    { log },
  )
  untrusting = await startTestProxy(
    {
      http: {
        listen: '127.0.0.1:0',
        legacy: `https://127.0.0.1:${port.legacy}`,
        doh: false,
      },
    },
    { log },
  )
})

afterAll(async () => {
  await proxy?.stop()
  await untrusting?.stop()
  await nginx?.stop()
  ca?.remove()
})

/** A GET through `through` for `host`; its status, body and the upstream connection's number. */
async function get(
  host: string,
  through = proxy,
): Promise<{ status: number; body: string; connection: unknown }> {
  const res = await request(`http://127.0.0.1:${through.httpPort}/page`, { headers: { host } })
  return {
    status: res.statusCode,
    body: await res.body.text(),
    connection: res.headers['x-connection'],
  }
}

describe('cutover reaches an HTTPS legacy', () => {
  it('for a host of no site, verified with its ca and servername, the name sent as SNI', async () => {
    expect(await get('unknown.test')).toMatchObject({
      status: 200,
      body: 'legacy sni=[legacy.test] proto=HTTP/1.1 client=NONE xfp=http host=unknown.test\n',
    })
  })

  it("keeps its name and its connection whatever the client's Host", async () => {
    const first = await get('one.test')
    const second = await get('two.test')
    expect(second.body).toBe(
      'legacy sni=[legacy.test] proto=HTTP/1.1 client=NONE xfp=http host=two.test\n',
    )
    expect(first.connection).toMatch(/^\d+$/)
    expect(second.connection).toBe(first.connection)
  })
})

describe('cutover reaches an HTTPS origin', () => {
  it('for a site on the new path, verified with its ca and servername, the name sent as SNI', async () => {
    expect(await get('www.example.test')).toMatchObject({
      status: 200,
      body: 'origin sni=[origin.test] proto=HTTP/1.1 client=NONE xfp=http host=www.example.test\n',
    })
  })

  it("sends the URL's host name as SNI and checks it when no servername is set", async () => {
    const { status, body } = await get('by-url-name.example.test')
    expect(status).toBe(200)
    expect(body).toMatch(/^origin sni=\[localhost\] /)
  })

  it('sends no SNI for a URL with an IP address and no servername (insecure: true, no ca)', async () => {
    const { status, body } = await get('insecure.example.test')
    expect(status).toBe(200)
    expect(body).toMatch(/^origin sni=\[\] proto=HTTP\/1\.1 /)
  })

  it('speaks HTTP/2 when the origin says http2: true, HTTP/1.1 otherwise', async () => {
    const { status, body } = await get('h2.example.test')
    expect(status).toBe(200)
    expect(body).toMatch(
      /^origin sni=\[origin\.test\] proto=HTTP\/2\.0 .* host=h2\.example\.test$/m,
    )
    // The same nginx server offers h2 to every client; the other sites do not ask for it.
    expect((await get('www.example.test')).body).toContain(' proto=HTTP/1.1 ')
  })

  it('shows its client certificate to an origin that asks for one (mutual TLS)', async () => {
    const { status, body } = await get('mtls.example.test')
    expect(status).toBe(200)
    expect(body).toMatch(/^mtls sni=\[origin\.test\] proto=HTTP\/1\.1 client=SUCCESS /)
  })

  it("passes on nginx's refusal when it has no client certificate to show", async () => {
    const before = await proxy.metric('cutover_origin_failures_total', { protocol: 'http' })
    const { status, body } = await get('mtls-anonymous.example.test')
    expect(status).toBe(400)
    expect(body).toContain('No required SSL certificate was sent')
    expect(await proxy.metric('cutover_origin_failures_total', { protocol: 'http' })).toBe(before)
  })
})

describe('an upstream certificate cutover cannot trust', () => {
  /** Asks `host` through `through`; the 502, the TLS failure counted once, and the one log line's error. */
  async function refused(
    through: TestProxy,
    host: string,
    metric: string,
    upstream: string,
  ): Promise<string> {
    const labels = { protocol: 'http', failure: 'tls' }
    const before = await through.metric(metric, labels)
    const from = logged.length
    expect((await get(host, through)).status).toBe(502)
    expect(await through.metric(metric, labels)).toBe(before + 1)
    const lines = logged.slice(from)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ msg: 'HTTP upstream failed', upstream })
    return String(lines[0].err)
  }

  it('is a 502 for a legacy whose CA was not given, logged with the fix', async () => {
    const err = await refused(untrusting, 'unknown.test', 'cutover_legacy_failures_total', 'legacy')
    expect(err).toContain(`https://127.0.0.1:${port.legacy}: TLS with the upstream failed`)
    expect(err).toContain('(UNABLE_TO_VERIFY_LEAF_SIGNATURE)')
    expect(err).toContain("give that CA's certificate (PEM) as tls.ca")
  })

  it('is a 502 for an origin whose CA was not given, logged with the fix', async () => {
    const err = await refused(
      proxy,
      'no-ca.example.test',
      'cutover_origin_failures_total',
      'origin',
    )
    expect(err).toContain('(UNABLE_TO_VERIFY_LEAF_SIGNATURE)')
    expect(err).toContain("give that CA's certificate (PEM) as tls.ca")
  })

  it('is a 502 for an origin whose certificate does not hold the servername', async () => {
    const err = await refused(
      proxy,
      'wrong-name.example.test',
      'cutover_origin_failures_total',
      'origin',
    )
    expect(err).toContain("Host: other.test. is not in the cert's altnames: DNS:origin.test")
    expect(err).toContain('(ERR_TLS_CERT_ALTNAME_INVALID)')
    expect(err).toContain('set tls.servername to a name it holds')
  })

  it('is a 502 for a URL with an IP address and no servername: the IP is what gets checked', async () => {
    const err = await refused(
      proxy,
      'by-ip.example.test',
      'cutover_origin_failures_total',
      'origin',
    )
    expect(err).toContain("IP: 127.0.0.1 is not in the cert's list")
    expect(err).toContain('(ERR_TLS_CERT_ALTNAME_INVALID)')
    expect(err).toContain('set tls.servername to a name it holds')
  })

  it('is a 502 for an origin whose certificate has expired', async () => {
    const err = await refused(
      proxy,
      'expired.example.test',
      'cutover_origin_failures_total',
      'origin',
    )
    expect(err).toContain('(CERT_HAS_EXPIRED)')
    expect(err).toContain('renew it on the upstream')
  })
})
