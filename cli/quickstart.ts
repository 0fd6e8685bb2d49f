// `cutover quickstart` (what `npm start` runs): the demo legacy (DNS and HTTP),
// the demo origin and the proxy on loopback with examples/quickstart.yaml, and
// how to try them.

import { fileURLToPath } from 'node:url'
import { startDemoLegacyHttp, startDemoOrigin } from '../examples/demo-http.ts'
import { startDemoLegacy } from '../examples/demo-legacy.ts'
import { loadConfig } from '../proxy/config/config.ts'
import { parseHostPort } from '../proxy/config/units.ts'
import { startProxy } from '../proxy/process/single-process.ts'
import { createLogger } from '../proxy/telemetry/log.ts'
import { options } from './args.ts'

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url))

export async function quickstartCommand(args: string[]): Promise<number> {
  const { values } = options(args, { config: { type: 'string', short: 'c' } })
  const config = loadConfig(values.config ?? `${EXAMPLES}quickstart.yaml`)
  if (!config.dns || !config.http)
    throw new Error('the quickstart config needs both a dns and an http section')
  const legacyDns = config.dns.legacy.servers[0]
  const legacyHttp = parseHostPort(new URL(config.http.legacy.url).host)!
  const origin = parseHostPort(new URL(config.http.sites[0].origin!).host)!
  const demos = [
    await startDemoLegacy(legacyDns.host, legacyDns.port, `${EXAMPLES}zones`),
    await startDemoLegacyHttp(legacyHttp.host, legacyHttp.port),
    await startDemoOrigin(origin.host, origin.port),
  ]
  const proxy = await startProxy(config, createLogger(config.log.level))
  const dns = `@${config.dns.listen.host} -p ${proxy.dnsPort}`
  const http = `${config.http.listen.host}:${proxy.httpPort}`
  process.stdout.write(`
cutover quickstart: DNS on ${config.dns.listen.host}:${proxy.dnsPort} (UDP and TCP), HTTP on ${http}, admin on 127.0.0.1:${proxy.adminPort}
demo legacy: DNS ${legacyDns.host}:${legacyDns.port}, HTTP ${legacyHttp.host}:${legacyHttp.port}; demo origin ${origin.host}:${origin.port}

Try it:
  dig ${dns} www.example.test        # new path: example.test is migrated (flags: aa)
  dig ${dns} www.legacy.test         # legacy path: forwarded to the demo legacy
  dig ${dns} +tcp shop.example.test  # CNAME answered by the new path over TCP
  curl -si -H 'Host: www.example.test' http://${http}/old/page     # new path: 301 to /new/page
  curl -s  -H 'Host: www.example.test' http://${http}/robots.txt   # new path: static answer
  curl -si -H 'Host: www.example.test' http://${http}/             # new path: origin, with header rules
  curl -s  -H 'Host: shop.example.test' http://${http}/cart        # legacy: the site uses a 'waf' rule
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
