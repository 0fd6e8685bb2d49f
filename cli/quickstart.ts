// `cutover quickstart` (what `npm start` runs): the demo legacy (DNS and HTTP)
// and the demo origin on loopback, the proxy of examples/quickstart.yaml run as
// `cutover start` runs it (a supervisor and two workers, so `cutover restart`,
// `reload` and `stop` work on it), and how to try them.

import { fileURLToPath } from 'node:url'
import { CutoverError } from '../common/cutover-error.ts'
import { startDemoLegacyHttp, startDemoOrigin } from '../examples/demo-http.ts'
import { startDemoLegacy } from '../examples/demo-legacy.ts'
import { readToken, tokenFileOf } from '../proxy/admin/token.ts'
import { loadConfig } from '../proxy/config/config.ts'
import { parseHostPort } from '../proxy/config/units.ts'
import { options } from './args.ts'
import { runProxy } from './start.ts'

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url))

export async function quickstartCommand(args: string[]): Promise<number> {
  const { values } = options(args, { config: { type: 'string', short: 'c' } })
  const config = loadConfig(values.config ?? `${EXAMPLES}quickstart.yaml`)
  if (!config.dns || !config.http)
    throw new CutoverError('USAGE', 'the quickstart config needs both a dns and an http section')
  const legacyDns = config.dns.legacy.servers[0]
  const legacyHttp = parseHostPort(new URL(config.http.legacy.url).host)!
  const origin = parseHostPort(new URL(config.http.sites[0].origin!.url).host)!
  const demos = [
    await startDemoLegacy(legacyDns.host, legacyDns.port, `${EXAMPLES}zones`),
    await startDemoLegacyHttp(legacyHttp.host, legacyHttp.port),
    await startDemoOrigin(origin.host, origin.port),
  ]
  const { dns: d, http: h } = config
  const proxy = {
    dnsPort: d.listen.port,
    httpPort: h.listen.port,
    httpsPort: h.tls?.listen.port,
    dotPort: d.tls?.listen.port,
    adminPort: config.admin.listen.port,
  }
  const dns = `@${d.listen.host} -p ${proxy.dnsPort}`
  const http = `${h.listen.host}:${proxy.httpPort}`
  const https = `${h.tls?.listen.host}:${proxy.httpsPort}`
  // A one-line WebSocket client (the ws package): says hi to /ws as `host` and prints the echo.
  const ws = (host: string) =>
    `node -e "const w=new(require('ws'))('ws://${http}/ws',{headers:{host:'${host}'}});w.on('open',()=>w.send('hi'));w.on('message',m=>{console.log(String(m));w.close()})"`
  const tryIt = () =>
    process.stdout.write(`
cutover quickstart: DNS on ${d.listen.host}:${proxy.dnsPort} (UDP and TCP), DNS over TLS on ${d.tls?.listen.host}:${proxy.dotPort}, HTTP on ${http}, HTTPS (HTTP/1.1 and HTTP/2) on ${https}, admin on 127.0.0.1:${proxy.adminPort}
demo legacy: DNS ${legacyDns.host}:${legacyDns.port}, HTTP ${legacyHttp.host}:${legacyHttp.port}; demo origin ${origin.host}:${origin.port}
console: http://127.0.0.1:${proxy.adminPort}/  sign in with the admin token ${readToken(tokenFileOf(config))}

Try it:
  dig ${dns} www.example.test        # new path: example.test is migrated (flags: aa)
  dig ${dns} www.legacy.test         # legacy path: forwarded to the demo legacy
  dig ${dns} +tcp shop.example.test  # CNAME answered by the new path over TCP
  curl -si -H 'Host: www.example.test' http://${http}/old/page     # new path: 301 to /new/page
  curl -s  -H 'Host: www.example.test' http://${http}/robots.txt   # new path: static answer
  curl -si -H 'Host: www.example.test' http://${http}/             # new path: origin, with header rules
  curl -s  -H 'Host: shop.example.test' http://${http}/cart        # legacy: the site uses a 'waf' rule
  ${ws('www.example.test')}    # WebSocket, new path: the origin echoes
  ${ws('shop.example.test')}   # WebSocket, legacy: the demo legacy echoes
  curl -sik --http2 --resolve www.example.test:${proxy.httpsPort}:127.0.0.1 https://www.example.test:${proxy.httpsPort}/   # HTTPS, HTTP/2
  kdig @${d.tls?.listen.host} -p ${proxy.dotPort} +tls www.example.test   # DNS over TLS (or: dig +tls)
  curl -s 127.0.0.1:${proxy.adminPort}/metrics | grep cutover_requests_total
  npx cutover reload --config ${config.file}    # after editing it (also: restart, stop)

Ctrl-C stops everything.
`)
  try {
    return await runProxy(config, tryIt)
  } finally {
    await Promise.all(demos.map((demo) => demo.stop()))
  }
}
