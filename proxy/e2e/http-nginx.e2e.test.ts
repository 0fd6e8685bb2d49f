// End to end against a real nginx: nginx is the legacy proxy, configured with
// the same rules as the site cutover serves on its new path, and both pass to
// the same real origin (another nginx server). For every rule type the new
// path's response must equal nginx's: status, the headers that matter, body.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from './support/free-port.ts'
import { type NginxServer, startNginx } from './support/nginx.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'

let nginx: NginxServer
let proxy: TestProxy
let legacyPort: number
let originPort: number
let cacheDir: string

/** The headers a client or cache acts on; the rest (Date, Server, Via, framing) may differ. */
const MATTERS = [
  'content-type',
  'location',
  'cache-control',
  'x-served-by',
  'set-cookie',
  'x-origin',
  'vary',
  'etag',
  'last-modified',
]

beforeAll(async () => {
  legacyPort = await freePort()
  originPort = await freePort()
  cacheDir = mkdtempSync(join(tmpdir(), 'cutover-nginx-cache-'))
  nginx = await startNginx(
    `
  # The origin: reflects what it received, so both paths can be compared on it.
  server {
    listen 127.0.0.1:${originPort};
    location /cached/ {
      default_type text/plain;
      add_header Cache-Control "max-age=60";
      return 200 "a cacheable page (request $request_id)\\n";
    }
    location / {
      default_type text/plain;
      add_header X-Origin nginx;
      add_header X-Powered-By legacy-stack;
      add_header Set-Cookie "a=1; Path=/";
      add_header Set-Cookie "b=2; Path=/";
      add_header Cache-Control "max-age=60";
      return 200 "origin saw (request $request_id) $request_method $request_uri host=$host x-cutover=$http_x_cutover xff=$http_x_forwarded_for proto=$http_x_forwarded_proto cookie=$http_cookie\\n";
    }
  }
  limit_req_zone $binary_remote_addr zone=perclient:1m rate=5r/s;
  proxy_cache_path ${cacheDir} keys_zone=pages:1m;
  # The legacy proxy: the site's rules, written the nginx way.
  server {
    listen 127.0.0.1:${legacyPort};
    server_name www.e2e.test;
    absolute_redirect off;
    error_page 403 /403.txt;
    location = /403.txt { internal; default_type "text/plain; charset=utf-8"; return 403 "Forbidden\\n"; }
    location /old/ { rewrite ^/old/(.*)$ /new/$1 permanent; }
    location = /moved { return 302 /elsewhere$is_args$args; }
    location ~ ^/items/([0-9]+)$ { return 308 /products/$1$is_args$args; }
    location = /robots.txt { default_type "text/plain; charset=utf-8"; return 200 "User-agent: *\\nDisallow: /private/\\n"; }
    location = /maintenance { default_type "text/html"; return 503 "<h1>down for maintenance</h1>\\n"; }
    location /admin/ { deny 127.0.0.1; allow all; }
    error_page 429 /429.txt;
    location = /429.txt { internal; default_type "text/plain; charset=utf-8"; return 429 "rate limit exceeded\\n"; }
    location /limited/ {
      limit_req zone=perclient burst=4 nodelay;
      limit_req_status 429;
      proxy_set_header Host $host;
      proxy_pass http://127.0.0.1:${originPort};
    }
    location /cached/ {
      proxy_cache pages;
      proxy_set_header Host $host;
      proxy_pass http://127.0.0.1:${originPort};
    }
    location / {
      proxy_set_header Host $host;
      proxy_set_header X-Cutover new-path;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_hide_header X-Powered-By;
      add_header X-Served-By cutover always;
      proxy_pass http://127.0.0.1:${originPort};
    }
  }
`,
    [originPort, legacyPort],
  )
  proxy = await startTestProxy({
    http: {
      listen: '127.0.0.1:0',
      legacy: { url: `http://127.0.0.1:${legacyPort}` },
      doh: false,
      sites: [
        {
          host: 'www.e2e.test',
          origin: `http://127.0.0.1:${originPort}`,
          percent: 100,
          rules: [
            { type: 'redirect', match: { prefix: '/old/' }, to: '/new/$1', status: 301 },
            { type: 'redirect', match: { exact: '/moved' }, to: '/elsewhere', status: 302 },
            {
              type: 'redirect',
              match: { regex: '^/items/([0-9]+)$' },
              to: '/products/$1',
              status: 308,
            },
            {
              type: 'static',
              match: { exact: '/robots.txt' },
              body: 'User-agent: *\nDisallow: /private/\n',
            },
            {
              type: 'static',
              match: { exact: '/maintenance' },
              status: 503,
              headers: { 'Content-Type': 'text/html' },
              body: '<h1>down for maintenance</h1>\n',
            },
            { type: 'access', action: 'deny', ip: ['127.0.0.1/32'], path: { prefix: '/admin/' } },
            {
              type: 'ratelimit',
              key: 'client-ip',
              rate: 5,
              per: '1s',
              burst: 5,
              match: { prefix: '/limited/' },
            },
            { type: 'cache', match: { prefix: '/cached/' } },
            {
              type: 'headers',
              request: { set: { 'X-Cutover': 'new-path' } },
              response: { set: { 'X-Served-By': 'cutover' }, remove: ['X-Powered-By'] },
            },
          ],
        },
        // The same host name served by the legacy directly, to compare against.
        { host: 'legacy.e2e.test', percent: 0 },
      ],
    },
  })
})

afterAll(async () => {
  await proxy?.stop()
  await nginx?.stop()
  rmSync(cacheDir, { recursive: true, force: true })
})

interface Seen {
  status: number
  headers: Record<string, string>
  body: string
}

/** A GET with any Host (fetch would not let a test set one). */
async function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<Seen> {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    headers: { host: 'www.e2e.test', ...headers },
  })
  const seen: Record<string, string> = {}
  for (const name of MATTERS) {
    const v = res.headers[name]
    if (v !== undefined) seen[name] = Array.isArray(v) ? v.join(' | ') : v
  }
  const body = await res.body.text()
  // A redirect's body is a courtesy page each server words (and types) its own way.
  if (res.statusCode >= 300 && res.statusCode < 400) {
    delete seen['content-type']
    return { status: res.statusCode, headers: seen, body: '' }
  }
  return { status: res.statusCode, headers: seen, body }
}

const CASES: [string, string][] = [
  ['redirect with a prefix and the query kept', '/old/page?x=1&y=2'],
  ['redirect of an exact path, 302', '/moved?from=home'],
  ['redirect with a regex capture, 308', '/items/42'],
  ['static answer', '/robots.txt'],
  ['static answer with its own status and type', '/maintenance'],
  ['access denied by client address', '/admin/panel'],
  ['headers rules around the origin', '/products/7?color=red'],
  ['no rule: straight to the origin', '/anything/else'],
]

describe('the new path answers as nginx does for the same rules', () => {
  for (const [name, path] of CASES) {
    it(name, async () => {
      const fromNginx = await get(legacyPort, path)
      const fromProxy = await get(proxy.httpPort, path)
      // Each origin response carries its own request id.
      const anyId = (seen: Seen) => ({
        ...seen,
        body: seen.body.replace(/\(request \w+\)/, '(request *)'),
      })
      expect(anyId(fromProxy)).toEqual(anyId(fromNginx))
    })
  }

  it('rate limits as nginx limit_req does: the burst passes, the rest gets 429', async () => {
    const statuses = async (port: number) => {
      const out: number[] = []
      for (let i = 0; i < 8; i++) out.push((await get(port, '/limited/x')).status)
      return out
    }
    const fromNginx = await statuses(legacyPort)
    expect(fromNginx).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    expect(await statuses(proxy.httpPort)).toEqual(fromNginx)
    const limited = await get(proxy.httpPort, '/limited/x')
    expect(limited.body).toBe((await get(legacyPort, '/limited/x')).body)
  })

  it('caches as nginx proxy_cache does: the second response is the stored first one', async () => {
    for (const port of [legacyPort, proxy.httpPort]) {
      const first = await get(port, '/cached/page')
      const second = await get(port, '/cached/page')
      expect(first.body).toMatch(/a cacheable page \(request \w+\)/)
      expect(second).toEqual(first)
    }
    const uncached = [await get(proxy.httpPort, '/fresh'), await get(proxy.httpPort, '/fresh')]
    expect(uncached[1].body).not.toBe(uncached[0].body)
  })

  it('serves the new path, not the legacy (the requests were counted as new)', async () => {
    const before = await proxy.metric('cutover_requests_total', { protocol: 'http', path: 'new' })
    await get(proxy.httpPort, '/robots.txt')
    expect(await proxy.metric('cutover_requests_total', { protocol: 'http', path: 'new' })).toBe(
      before + 1,
    )
  })

  it('keeps several Set-Cookie headers apart and request cookies intact', async () => {
    const seen = await get(proxy.httpPort, '/cookies', { cookie: 'session=abc; theme=dark' })
    expect(seen.headers['set-cookie']).toBe('a=1; Path=/ | b=2; Path=/')
    expect(seen.body).toContain('cookie=session=abc; theme=dark')
  })

  it('forwards hosts of no new-path site to the legacy untouched', async () => {
    const before = await proxy.metric('cutover_requests_total', {
      protocol: 'http',
      path: 'legacy',
    })
    const fromProxy = await get(proxy.httpPort, '/anything', { host: 'legacy.e2e.test' })
    const fromNginx = await get(legacyPort, '/anything', { host: 'legacy.e2e.test' })
    expect(fromProxy.status).toBe(fromNginx.status)
    const unknown = await get(proxy.httpPort, '/x', { host: 'unknown.e2e.test' })
    expect(unknown.status).toBe(fromNginx.status)
    expect(await proxy.metric('cutover_requests_total', { protocol: 'http', path: 'legacy' })).toBe(
      before + 2,
    )
  })
})
