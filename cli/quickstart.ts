// `cutover quickstart` (what `npm start` runs): the demo legacy and the proxy on
// loopback with examples/quickstart.yaml, and how to try them.

import { fileURLToPath } from 'node:url'
import { startDemoLegacy } from '../examples/demo-legacy.ts'
import { loadConfig } from '../proxy/config.ts'
import { createLogger } from '../proxy/log.ts'
import { startProxy } from '../proxy/server.ts'
import { options } from './args.ts'

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url))

export async function quickstartCommand(args: string[]): Promise<number> {
  const { values } = options(args, { config: { type: 'string', short: 'c' } })
  const config = loadConfig(values.config ?? `${EXAMPLES}quickstart.yaml`)
  const legacyAt = config.dns.legacy.servers[0]
  const legacy = await startDemoLegacy(legacyAt.host, legacyAt.port, `${EXAMPLES}zones`)
  const proxy = await startProxy(config, createLogger(config.log.level))
  const dns = `@${config.dns.listen.host} -p ${proxy.dnsPort}`
  process.stdout.write(`
cutover quickstart: DNS on ${config.dns.listen.host}:${proxy.dnsPort} (UDP and TCP), admin on 127.0.0.1:${proxy.adminPort}
demo legacy DNS on ${legacyAt.host}:${legacy.port}

Try it:
  dig ${dns} www.example.test        # new path: example.test is migrated (flags: aa)
  dig ${dns} www.legacy.test         # legacy path: forwarded to the demo legacy
  dig ${dns} +tcp shop.example.test  # CNAME answered by the new path over TCP
  curl -s 127.0.0.1:${proxy.adminPort}/metrics | grep cutover_requests_total

Ctrl-C stops both.
`)
  return new Promise((done) => {
    const stop = () => {
      Promise.all([proxy.stop(), legacy.stop()]).then(() => done(0))
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
