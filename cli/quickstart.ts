// `cutover quickstart` (what `npm start` runs): the demo legacy (DNS and HTTP),
// the demo origin and the proxy on loopback with examples/quickstart.yaml, and
// how to try them.

import { fileURLToPath } from 'node:url'
import { CutoverError } from '../common/cutover-error.ts'
import { demoCertificate } from '../examples/demo-certificate.ts'
import { startDemoLegacyHttp, startDemoOrigin } from '../examples/demo-http.ts'
import { startDemoLegacy } from '../examples/demo-legacy.ts'
import { type Config, type DnsConfig, type HttpConfig, loadConfig } from '../proxy/config/config.ts'
import { parseHostPort } from '../proxy/config/units.ts'
import { startProxy } from '../proxy/process/single-process.ts'
import { createLogger } from '../proxy/telemetry/log.ts'
import { options } from './args.ts'

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url))

/**
 * HTTPS on 127.0.0.1:8443 and DNS over TLS on 127.0.0.1:8530 with the demo
 * certificate, unless the config has its own TLS section.
 */
function withDemoTls(config: Config, dns: DnsConfig, http: HttpConfig): void {
  if (config.tls) return
  const { cert, key } = demoCertificate(config.state)
  config.tls = {
    certificates: [{ cert, key }],
    default: 0,
    minVersion: 'TLSv1.2',
    ticketRotation: 12 * 3600_000,
    handshakeTimeout: 10_000,
  }
  http.tls ??= {
    listen: { host: '127.0.0.1', port: 8443 },
    http2: true,
    maxConcurrentStreams: 100,
  }
  dns.tls ??= { listen: { host: '127.0.0.1', port: 8530 } }
}

export async function quickstartCommand(args: string[]): Promise<number> {
  const { values } = options(args, { config: { type: 'string', short: 'c' } })
  const config = loadConfig(values.config ?? `${EXAMPLES}quickstart.yaml`)
  if (!config.dns || !config.http)
    throw new CutoverError('USAGE', 'the quickstart config needs both a dns and an http section')
  withDemoTls(config, config.dns, config.http)
  const legacyDns = config.dns.legacy.servers[0]
  const legacyHttp = parseHostPort(new URL(config.http.legacy.url).host)!
  const origin = parseHostPort(new URL(config.http.sites[0].origin!.url).host)!
  const demos = [
    await startDemoLegacy(legacyDns.host, legacyDns.port, `${EXAMPLES}zones`),
    await startDemoLegacyHttp(legacyHttp.host, legacyHttp.port),
    await startDemoOrigin(origin.host, origin.port),
  ]
  const proxy = await startProxy(config, createLogger(config.log.level))
  const dns = `@${config.dns.listen.host} -p ${proxy.dnsPort}`
  const http = `${config.http.listen.host}:${proxy.httpPort}`
  const https = `${config.http.tls?.listen.host}:${proxy.httpsPort}`
  // A one-line WebSocket client (the ws package): says hi to /ws as `host` and prints the echo.
  const ws = (host: string) =>
    `node -e "const w=new(require('ws'))('ws://${http}/ws',{headers:{host:'${host}'}});w.on('open',()=>w.send('hi'));w.on('message',m=>{console.log(String(m));w.close()})"`
  process.stdout.write(`
cutover quickstart: DNS on ${config.dns.listen.host}:${proxy.dnsPort} (UDP and TCP), DNS over TLS on ${config.dns.tls?.listen.host}:${proxy.dotPort}, HTTP on ${http}, HTTPS (HTTP/1.1 and HTTP/2) on ${https}, admin on 127.0.0.1:${proxy.adminPort}
demo legacy: DNS ${legacyDns.host}:${legacyDns.port}, HTTP ${legacyHttp.host}:${legacyHttp.port}; demo origin ${origin.host}:${origin.port}

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
  kdig @${config.dns.tls?.listen.host} -p ${proxy.dotPort} +tls www.example.test   # DNS over TLS (or: dig +tls)
  curl -s 127.0.0.1:${proxy.adminPort}/metrics | grep cutover_requests_total

Ctrl-C stops everything.
`)
  return new Promise((done) => {
    const stop = () => {
      Promise.all([proxy.stop(), ...demos.map((d) => d.stop())]).then(() => done(0))
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
