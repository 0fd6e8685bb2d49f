// loadConfig against YAML files in a temporary folder: what a valid config
// turns into, and that every mistake is named with its key and the fix.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CutoverError } from '../../common/cutover-error.ts'
import { loadConfig } from './config.ts'

const dir = mkdtempSync(join(tmpdir(), 'cutover-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
/** Writes `yaml` to a new file in the temp folder; its path. */
function write(yaml: string, name = `config-${++n}.yaml`): string {
  const file = join(dir, name)
  writeFileSync(file, yaml)
  return file
}

const DNS = `
dns:
  listen: 127.0.0.1:5300
  legacy:
    servers: [127.0.0.1:5301]
`

const HTTP = `
http:
  listen: 127.0.0.1:8080
  legacy:
    url: http://127.0.0.1:8081
  doh: false
`

const escapeRe = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The error loadConfig throws for `yaml`. */
function failure(yaml: string): CutoverError {
  const file = write(yaml)
  try {
    loadConfig(file)
  } catch (err) {
    expect(err).toBeInstanceOf(CutoverError)
    return err as CutoverError
  }
  throw new Error('expected loadConfig to throw')
}

/** The message loadConfig throws for `yaml`, without the file name. */
function problem(yaml: string): string {
  const err = failure(yaml)
  expect(err.code).toBe('CUTOVER_ERR_CONFIG_INVALID')
  return err.message
}

describe('valid configs', () => {
  it('loads a minimal DNS-only config with defaults filled in', () => {
    const file = write(DNS)
    const c = loadConfig(file)
    expect(c.file).toBe(file)
    expect(c.http).toBeUndefined()
    expect(c.dns).toMatchObject({
      listen: { host: '127.0.0.1', port: 5300 },
      udpPayload: 1232,
      moduleBudget: 50,
      tcp: { idleTimeout: 10_000, maxConnections: 1000, maxInFlight: 64 },
      zones: [],
      legacy: {
        servers: [{ host: '127.0.0.1', port: 5301 }],
        timeout: 2000,
        attempts: 2,
        sockets: 8,
        maxInFlight: 10_000,
        tcpIdleTimeout: 10_000,
        health: { failures: 3, interval: 1000 },
      },
      packetcache: {
        enabled: true,
        maxEntries: 100_000,
        maxBytes: 64 * 1024 * 1024,
        servfailTtl: 5000,
        maxTtl: 86_400_000,
      },
    })
    expect(c.admin).toEqual({ listen: { host: '127.0.0.1', port: 9090 }, tokens: [] })
    expect(c.log).toEqual({ level: 'info', access: { percent: 0 }, queries: { percent: 0 } })
    expect(c.state).toBe(join(dir, '.cutover'))
  })

  it('loads a minimal HTTP-only config with defaults filled in', () => {
    const c = loadConfig(write(HTTP))
    expect(c.dns).toBeUndefined()
    expect(c.http).toMatchObject({
      listen: { host: '127.0.0.1', port: 8080 },
      legacy: { url: 'http://127.0.0.1:8081' },
      upstream: {
        connections: 128,
        connectTimeout: 2000,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
        keepAliveTimeout: 4000,
      },
      limits: {
        maxHeaderSize: 16 * 1024,
        maxBodySize: 1024 ** 3,
        headersTimeout: 10_000,
        requestTimeout: 300_000,
        keepAliveTimeout: 5000,
        maxConnections: 10_000,
      },
      moduleBudget: 50,
      doh: false,
      sites: [],
    })
  })

  it('gives DoH its default path when there is a dns section', () => {
    const c = loadConfig(
      write(
        `${DNS}\nhttp:\n  listen: 127.0.0.1:8080\n  legacy: { url: "http://127.0.0.1:8081" }\n`,
      ),
    )
    expect(c.http!.doh).toEqual({ path: '/dns-query' })
  })

  it('reads durations, sizes and IPv6 listen addresses as written', () => {
    const c = loadConfig(
      write(`
dns:
  listen: "[::1]:0"
  moduleBudget: 250ms
  tcp: { idleTimeout: 1m }
  legacy:
    servers: ["[2001:db8::53]:53", 192.0.2.53:5353]
    timeout: 1.5s
    health: { interval: 1h }
  packetcache: { maxBytes: 512KiB, servfailTtl: 3, maxTtl: 1d }
http:
  listen: 127.0.0.1:8080
  legacy: { url: "http://127.0.0.1:8081/" }
  limits: { maxHeaderSize: 32768, maxBodySize: 1 GB }
admin: { listen: "[::1]:9191" }
log: { level: silent }
`),
    )
    expect(c.dns!.listen).toEqual({ host: '::1', port: 0 })
    expect(c.dns!.moduleBudget).toBe(250)
    expect(c.dns!.tcp.idleTimeout).toBe(60_000)
    expect(c.dns!.legacy.servers).toEqual([
      { host: '2001:db8::53', port: 53 },
      { host: '192.0.2.53', port: 5353 },
    ])
    expect(c.dns!.legacy.timeout).toBe(1500)
    expect(c.dns!.legacy.health.interval).toBe(3_600_000)
    expect(c.dns!.packetcache).toMatchObject({
      maxBytes: 512 * 1024,
      servfailTtl: 3000,
      maxTtl: 86_400_000,
    })
    expect(c.http!.legacy.url).toBe('http://127.0.0.1:8081')
    expect(c.http!.limits).toMatchObject({ maxHeaderSize: 32_768, maxBodySize: 1e9 })
    expect(c.admin.listen).toEqual({ host: '::1', port: 9191 })
    expect(c.log.level).toBe('silent')
  })

  it('lowercases site host names and fills site defaults', () => {
    const c = loadConfig(
      write(`${HTTP}  sites:
    - host: WWW.Example.TEST
      aliases: [Example.test, "*.cdn.example.test"]
      origin: http://127.0.0.1:8082
      rules:
        - { type: redirect, match: { exact: /a }, to: /b }
`),
    )
    expect(c.http!.sites[0]).toMatchObject({
      host: 'www.example.test',
      aliases: ['example.test', '*.cdn.example.test'],
      origin: { url: 'http://127.0.0.1:8082', http2: false },
      rules: [{ type: 'redirect', match: { exact: '/a' }, to: '/b' }],
    })
  })

  it('resolves zone files, the state folder and the token file against the config file', () => {
    const sub = join(dir, 'etc', 'cutover')
    mkdirSync(sub, { recursive: true })
    const file = write(
      `dns:
  listen: 127.0.0.1:5300
  zones:
    - { name: example.test, file: zones/example.test.zone }
    - { name: other.test, file: /srv/zones/other.zone }
  legacy: { servers: [127.0.0.1:5301] }
admin: { listen: 127.0.0.1:9090, tokenFile: ../secrets/token }
state: ../state
`,
      'etc/cutover/proxy.yaml',
    )
    const c = loadConfig(relative(process.cwd(), file))
    expect(c.file).toBe(file)
    expect(c.dns!.zones.map((z) => z.file)).toEqual([
      join(sub, 'zones/example.test.zone'),
      '/srv/zones/other.zone',
    ])
    expect(c.admin.tokenFile).toBe(join(dir, 'etc', 'secrets', 'token'))
    expect(c.state).toBe(join(dir, 'etc', 'state'))
  })

  it('accepts a site with no traffic on the new path and no origin', () => {
    const c = loadConfig(write(`${HTTP}  sites:\n    - { host: shop.example.test, percent: 0 }\n`))
    expect(c.http!.sites[0].origin).toBeUndefined()
  })
})

describe('errors', () => {
  /** `key` (zod's dotted path; array items as .0 or [0]) followed by `expectation`. */
  const names = (message: string, key: string, expectation: string): void => {
    const k = key
      .split('.')
      .map((part, i) =>
        /^\d+$/.test(part) ? `(\\.${part}|\\[${part}\\])` : `${i ? '\\.' : ''}${escapeRe(part)}`,
      )
      .join('')
    expect(message).toMatch(new RegExp(`\\n {2}${k}: ${escapeRe(expectation)}`))
  }

  it('start with the file name and say the configuration is invalid', () => {
    const file = write('dns: { listen: nowhere, legacy: { servers: [127.0.0.1:53] } }')
    expect(() => loadConfig(file)).toThrow(`${file}: invalid configuration:\n`)
  })

  it('name a bad listen address and show the form expected', () => {
    for (const bad of [
      'localhost:5300',
      '127.0.0.1',
      '127.0.0.1:70000',
      '::1:53',
      '[::1]',
      '1.2.3:53',
    ])
      names(
        problem(`dns: { listen: "${bad}", legacy: { servers: [127.0.0.1:53] } }`),
        'dns.listen',
        `expected an IP address and port like "127.0.0.1:5300" or "[::1]:5300", got "${bad}"`,
      )
    names(
      problem(`${DNS}  zones: []\nhttp: { listen: "*:80", legacy: { url: "http://127.0.0.1:1" } }`),
      'http.listen',
      'expected an IP address and port like "127.0.0.1:5300" or "[::1]:5300", got "*:80"',
    )
    names(
      problem(
        'dns: { listen: 127.0.0.1:53, legacy: { servers: [127.0.0.1:53, example.test:53] } }',
      ),
      'dns.legacy.servers.1',
      'expected an IP address and port like',
    )
  })

  it('refuse an admin listen address off loopback', () => {
    for (const bad of ['0.0.0.0:9090', '192.0.2.1:9090', '[::]:9090', '[2001:db8::1]:9090'])
      names(
        problem(`${DNS}admin: { listen: "${bad}" }`),
        'admin.listen',
        'the admin API listens on loopback only (127.0.0.1 or ::1)',
      )
    expect(loadConfig(write(`${DNS}admin: { listen: 127.0.0.2:9090 }`)).admin.listen.host).toBe(
      '127.0.0.2',
    )
  })

  it('name bad durations', () => {
    names(
      problem(DNS.replace('servers:', 'timeout: 2 weeks\n    servers:')),
      'dns.legacy.timeout',
      'expected a duration like "500ms", "2s" or "1m", got "2 weeks"',
    )
    names(
      problem(`${DNS}  moduleBudget: -5`),
      'dns.moduleBudget',
      'expected a duration like "500ms", "2s" or "1m", got -5',
    )
    names(
      problem(`${HTTP}  upstream: { connectTimeout: 1y }`),
      'http.upstream.connectTimeout',
      'expected a duration like "500ms", "2s" or "1m", got "1y"',
    )
  })

  it('name bad sizes', () => {
    names(
      problem(`${DNS}  packetcache: { maxBytes: 64 megs }`),
      'dns.packetcache.maxBytes',
      'expected a size like "64MiB" or a number of bytes, got "64 megs"',
    )
    names(
      problem(`${HTTP}  limits: { maxBodySize: 1.5 }`),
      'http.limits.maxBodySize',
      'expected a size like "64MiB" or a number of bytes, got 1.5',
    )
  })

  it('name numbers out of range', () => {
    names(
      problem(`${DNS}  udpPayload: 256`),
      'dns.udpPayload',
      'Too small: expected number to be >=512',
    )
    names(
      problem(DNS.replace('servers:', 'attempts: 9\n    servers:')),
      'dns.legacy.attempts',
      'Too big: expected number to be <=5',
    )
  })

  it('name unknown keys, at the top and deeper', () => {
    names(
      problem(`${DNS}logging: { level: info }`),
      '(top level)',
      `unknown key(s) "logging"; check the spelling against README's configuration reference`,
    )
    names(
      problem(`${DNS}  packetcache: { maxEntires: 5 }`),
      'dns.packetcache',
      'unknown key(s) "maxEntires"',
    )
    names(
      problem(`${HTTP}  sites:\n    - { host: a.test, origin: "http://127.0.0.1:1", orgin: x }\n`),
      'http.sites.0',
      'unknown key(s) "orgin"',
    )
  })

  it('ask for legacy DNS servers', () => {
    names(problem('dns:\n  listen: 127.0.0.1:5300\n'), 'dns.legacy', 'expected object (missing)')
    names(
      problem('dns:\n  listen: 127.0.0.1:5300\n  legacy: { servers: [] }\n'),
      'dns.legacy.servers',
      'list at least one legacy DNS server, like ["127.0.0.1:5301"]',
    )
    names(
      problem('dns:\n  listen: 127.0.0.1:5300\n  legacy: {}\n'),
      'dns.legacy.servers',
      'expected array (missing)',
    )
  })

  it('ask for the HTTP legacy upstream in its form', () => {
    names(
      problem('http: { listen: 127.0.0.1:8080, doh: false }'),
      'http.legacy',
      'expected object (missing)',
    )
    for (const bad of [
      'ftp://127.0.0.1:8081',
      'http://127.0.0.1:8081/app',
      'http://u@127.0.0.1',
      '127.0.0.1:8081',
    ])
      for (const legacy of [`{ url: "${bad}" }`, `"${bad}"`])
        names(
          problem(`http: { listen: 127.0.0.1:8080, doh: false, legacy: ${legacy} }`),
          'http.legacy.url',
          `expected an upstream like "http://127.0.0.1:8081" or "https://origin.example:443" (scheme, host, port; no path), got "${bad}"`,
        )
  })

  it('name a bad site host', () => {
    names(
      problem(`${HTTP}  sites:\n    - { host: "bad_host.test", origin: "http://127.0.0.1:1" }\n`),
      'http.sites.0.host',
      'expected a host name like "www.example.com" or "*.example.com"',
    )
  })

  it('ask for the origin of a site with traffic on the new path', () => {
    const file = write(
      `${HTTP}  sites:\n    - { host: a.test, origin: "http://127.0.0.1:1" }\n    - { host: b.test, percent: 5 }\n`,
    )
    expect(() => loadConfig(file)).toThrow(
      new RegExp(
        `^${escapeRe(file)}: http\\.sites\\[1\\]\\.origin: a site .*needs its origin, like "http://127\\.0\\.0\\.1:8082"`,
      ),
    )
  })

  it('ask for a dns section when DoH is on', () => {
    expect(problem(HTTP.replace('  doh: false\n', ''))).toMatch(
      /: http\.doh needs a "dns" section to answer the queries \(or set http\.doh: false\)$/,
    )
  })

  it('ask for something to serve', () => {
    for (const yaml of ['', 'admin: { listen: 127.0.0.1:9090 }', 'log: { level: info }\n'])
      expect(problem(yaml)).toMatch(
        /: nothing to serve: add a "dns" section, an "http" section, or both$/,
      )
  })

  it('name a top level that is not a mapping', () => {
    names(problem('- dns\n- http\n'), '(top level)', 'expected object, got ["dns","http"]')
  })

  it('give the line of a YAML syntax error', () => {
    const file = write('dns:\n  listen: 127.0.0.1:5300\n legacy:\n    servers: [127.0.0.1:5301]\n')
    expect(() => loadConfig(file)).toThrow(`${file}:3: not valid YAML: `)
    const err = failure('# comment\ndns: { listen: 127.0.0.1:5300\n\n\n')
    expect(err.code).toBe('CUTOVER_ERR_CONFIG_INVALID')
    expect(err.message).toMatch(/\.yaml:\d+: not valid YAML: \S/)
    expect(err.message).not.toContain('\n')
  })

  it('say a file cannot be read', () => {
    const missing = join(dir, 'missing.yaml')
    expect(() => loadConfig(missing)).toThrow(
      expect.objectContaining({
        code: 'CUTOVER_ERR_CONFIG_UNREADABLE',
        message: expect.stringMatching(new RegExp(`^cannot read config ${missing}: ENOENT`)),
      }),
    )
    expect(() => loadConfig(dir)).toThrow(
      expect.objectContaining({
        code: 'CUTOVER_ERR_CONFIG_UNREADABLE',
        message: expect.stringContaining('EISDIR'),
      }),
    )
  })

  it('list every problem, one per line', () => {
    const message = problem('dns: { listen: x, udpPayload: 1, legacy: { servers: [] } }')
    expect(message.split('\n').slice(1)).toHaveLength(3)
    names(message, 'dns.listen', 'expected an IP address and port')
    names(message, 'dns.udpPayload', 'Too small')
    names(message, 'dns.legacy.servers', 'list at least one legacy DNS server')
  })
})

describe('upstreams over https and the TLS section', () => {
  const LISTEN = 'http:\n  listen: 127.0.0.1:8080\n  doh: false\n'

  /** A config whose legacy is `legacy` (YAML flow), with `more` after the http section. */
  const withLegacy = (legacy: string, more = ''): string => `${LISTEN}  legacy: ${legacy}\n${more}`

  /** `message` holds the line `key: text`, as loadConfig lists each problem. */
  const says = (message: string, key: string, text: string): void => {
    expect(message.split('\n')).toContain(`  ${key}: ${text}`)
  }

  it('accepts an https:// legacy and origin, as a URL or with tls and http2', () => {
    const c = loadConfig(
      write(
        withLegacy(
          '{ url: "https://127.0.0.1:8443", tls: { ca: /etc/ca.pem, servername: legacy.test } }',
          `  sites:
    - host: www.example.test
      origin: { url: "https://origin.example:443", http2: true, tls: { insecure: true } }
    - host: plain.example.test
      origin: "https://127.0.0.1:9443"
`,
        ),
      ),
    )
    expect(c.http!.legacy).toEqual({
      url: 'https://127.0.0.1:8443',
      tls: { ca: '/etc/ca.pem', servername: 'legacy.test' },
      http2: false,
    })
    // The default port is left out, as URL.origin writes it.
    expect(c.http!.sites.map((s) => s.origin)).toMatchObject([
      { url: 'https://origin.example', tls: { insecure: true }, http2: true },
      { url: 'https://127.0.0.1:9443', http2: false },
    ])
    expect(c.http!.sites[1].origin!.tls).toBeUndefined()
  })

  it('refuses tls settings on an http:// upstream', () => {
    says(
      problem(withLegacy('{ url: "http://127.0.0.1:8081", tls: { servername: legacy.test } }')),
      'http.legacy',
      'tls settings apply to an https:// upstream only',
    )
    says(
      problem(
        withLegacy(
          '"http://127.0.0.1:8081"',
          '  sites:\n    - { host: a.test, origin: { url: "http://127.0.0.1:1", tls: { ca: ca.pem } } }\n',
        ),
      ),
      'http.sites.0.origin',
      'tls settings apply to an https:// upstream only',
    )
  })

  it('refuses http2 to an http:// upstream', () => {
    says(
      problem(withLegacy('{ url: "http://127.0.0.1:8081", http2: true }')),
      'http.legacy',
      'http2 to an upstream needs https:// (cutover does not send HTTP/2 in clear text)',
    )
  })

  it('refuses a client certificate without its key, and a key without its certificate', () => {
    for (const half of ['cert: client.pem', 'key: client.key'])
      says(
        problem(withLegacy(`{ url: "https://127.0.0.1:8443", tls: { ${half} } }`)),
        'http.legacy.tls',
        'a client certificate needs both cert and key',
      )
  })

  it('refuses insecure: true with a ca', () => {
    says(
      problem(withLegacy('{ url: "https://127.0.0.1:8443", tls: { insecure: true, ca: ca.pem } }')),
      'http.legacy.tls',
      'insecure: true skips verification, so a ca has no use: keep one of them',
    )
  })

  it('asks for the top-level tls section when a listener serves TLS', () => {
    const fix =
      'needs certificates: add a "tls" section, like tls: { certificates: [{ cert: site.pem, key: site.key }] }'
    const https = write(
      withLegacy('"http://127.0.0.1:8081"').replace(
        LISTEN,
        `${LISTEN}  tls: { listen: 127.0.0.1:8443 }\n`,
      ),
    )
    expect(() => loadConfig(https)).toThrow(`${https}: http.tls ${fix}`)
    const dot = write(`${DNS}  tls: { listen: 127.0.0.1:853 }\n`)
    expect(() => loadConfig(dot)).toThrow(`${dot}: dns.tls ${fix}`)
  })

  it('refuses a tls.default that is not the index of a certificate', () => {
    const certificates = 'certificates: [{ cert: a.pem, key: a.key }, { cert: b.pem, key: b.key }]'
    const file = write(
      withLegacy('"http://127.0.0.1:8081"', `tls: { ${certificates}, default: 2 }\n`),
    )
    expect(() => loadConfig(file)).toThrow(
      `${file}: tls.default: 2 is not the index of a certificate (there are 2)`,
    )
    says(
      problem(withLegacy('"http://127.0.0.1:8081"', `tls: { ${certificates}, default: -1 }\n`)),
      'tls.default',
      'Too small: expected number to be >=0',
    )
    expect(
      loadConfig(write(withLegacy('"http://127.0.0.1:8081"', `tls: { ${certificates} }\n`))).tls,
    ).toMatchObject({ default: 0 })
  })

  it('resolves the ca, cert and key files against the config file', () => {
    const sub = join(dir, 'tls-paths')
    mkdirSync(sub, { recursive: true })
    const file = write(
      withLegacy(
        '{ url: "https://127.0.0.1:8443", tls: { ca: certs/ca.pem, cert: ../client.pem, key: /keys/client.key } }',
        `  sites:
    - host: www.example.test
      origin: { url: "https://127.0.0.1:9443", tls: { ca: origin-ca.pem } }
tls:
  certificates: [{ cert: site.pem, key: keys/site.key, chain: chain.pem }]
`,
      ),
      'tls-paths/proxy.yaml',
    )
    const c = loadConfig(relative(process.cwd(), file))
    expect(c.http!.legacy.tls).toEqual({
      ca: join(sub, 'certs/ca.pem'),
      cert: join(dir, 'client.pem'),
      key: '/keys/client.key',
    })
    expect(c.http!.sites[0].origin!.tls).toEqual({ ca: join(sub, 'origin-ca.pem') })
    expect(c.tls!.certificates).toEqual([
      {
        cert: join(sub, 'site.pem'),
        key: join(sub, 'keys/site.key'),
        chain: join(sub, 'chain.pem'),
      },
    ])
  })
})
