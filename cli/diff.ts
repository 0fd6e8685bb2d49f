// `cutover diff SUITE...`: the differential harness. Compares the legacy with
// the candidate (the proxy's new path) case by case and reports; exit 0 when
// they agree, 1 on any mismatch (or an expired suppression), 2 on a usage or
// connection error. `cutover diff generate ...` writes suites.

import { writeFileSync } from 'node:fs'
import { CutoverError } from '../common/cutover-error.ts'
import { createProgress } from '../flamingo-tests/progress.ts'
import { renderHtml } from '../flamingo-tests/report-html.ts'
import { renderJson } from '../flamingo-tests/report-json.ts'
import { renderJunit } from '../flamingo-tests/report-junit.ts'
import { renderTerminal } from '../flamingo-tests/report-terminal.ts'
import { checkReachable, runSuites } from '../flamingo-tests/runner.ts'
import { loadSuite } from '../flamingo-tests/suite.ts'
import { loadSuppressions } from '../flamingo-tests/suppress.ts'
import { Target, type TargetSpec } from '../flamingo-tests/targets.ts'
import { readToken, tokenFileOf } from '../proxy/admin/token.ts'
import { loadConfig } from '../proxy/config/config.ts'
import { parseHostPort } from '../proxy/config/units.ts'
import { adminOf, call } from './admin-client.ts'
import { options } from './args.ts'
import { generateCommand } from './diff-generate.ts'

const USAGE = `usage: cutover diff SUITE... [options]
       cutover diff generate --zone FILE --origin NAME [--out FILE]
       cutover diff generate --config FILE --site HOST [--out FILE]

targets (from --config: the legacy from dns.legacy / http.legacy, the candidate
from dns.candidateListen and http.listen forced to the new path):
  --config FILE            the proxy's config
  --legacy-dns HOST:PORT   --candidate-dns HOST:PORT
  --legacy-http URL        --candidate-http URL       (with --config, the candidate is forced to new)
  --legacy-doh URL         --candidate-doh URL
options:
  --suppress FILE          accepted differences (field, case, who, why, expires)
  --concurrency N          cases in flight (default 64)
  --json FILE  --junit FILE  --html FILE
  --upload                 send the HTML report to the proxy's admin API (the console lists it),
                           reached as for \`cutover rollout\` (--config, or --admin URL with $CUTOVER_ADMIN_TOKEN)
  --admin URL              the admin API to upload to`

function hostPort(
  text: string | undefined,
  flag: string,
): { host: string; port: number } | undefined {
  if (text === undefined) return undefined
  const hp = parseHostPort(text)
  if (!hp)
    throw new CutoverError(
      'USAGE',
      `${flag}: expected an address like 127.0.0.1:5300, got '${text}'`,
    )
  return hp
}

export async function diffCommand(args: string[]): Promise<number> {
  if (args[0] === 'generate') return generateCommand(args.slice(1))
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const { values, positionals } = options(args, {
    config: { type: 'string', short: 'c' },
    'legacy-dns': { type: 'string' },
    'candidate-dns': { type: 'string' },
    'legacy-http': { type: 'string' },
    'candidate-http': { type: 'string' },
    'legacy-doh': { type: 'string' },
    'candidate-doh': { type: 'string' },
    suppress: { type: 'string' },
    concurrency: { type: 'string' },
    json: { type: 'string' },
    junit: { type: 'string' },
    html: { type: 'string' },
    upload: { type: 'boolean' },
    admin: { type: 'string' },
  })
  if (positionals.length === 0) throw new CutoverError('USAGE', `no suite given\n\n${USAGE}`)
  const suites = positionals.map(loadSuite)
  const legacy: TargetSpec = {
    label: 'legacy',
    dns: hostPort(values['legacy-dns'], '--legacy-dns'),
    http: values['legacy-http'],
    doh: values['legacy-doh'],
  }
  const candidate: TargetSpec = {
    label: 'candidate',
    dns: hostPort(values['candidate-dns'], '--candidate-dns'),
    http: values['candidate-http'],
    doh: values['candidate-doh'],
  }
  if (values.config) {
    const config = loadConfig(values.config)
    legacy.dns ??= config.dns?.legacy.servers[0]
    legacy.http ??= config.http?.legacy.url
    candidate.dns ??= config.dns?.candidateListen
    if (config.http) {
      const { host, port } = config.http.listen
      candidate.http ??= `http://${host.includes(':') ? `[${host}]` : host}:${port}`
      candidate.doh ??= config.http.doh ? `${candidate.http}${config.http.doh.path}` : undefined
      candidate.forceNewWith = readToken(tokenFileOf(config))
    }
  }
  for (const s of suites) {
    for (const [side, spec] of [
      ['legacy', legacy],
      ['candidate', candidate],
    ] as const) {
      if (s.kind === 'dns' && !spec.dns && s.cases.some((c) => c.transport !== 'doh')) {
        throw new CutoverError(
          'USAGE',
          `${s.file} has DNS cases but the ${side} has no DNS address (--${side}-dns${side === 'candidate' ? ', or dns.candidateListen in the config' : ''})`,
        )
      }
      if (s.kind === 'dns' && !spec.doh && s.cases.some((c) => c.transport === 'doh'))
        throw new CutoverError(
          'USAGE',
          `${s.file} has DoH cases but the ${side} has no DoH URL (--${side}-doh)`,
        )
      if (s.kind === 'http' && !spec.http)
        throw new CutoverError(
          'USAGE',
          `${s.file} has HTTP cases but the ${side} has no HTTP URL (--${side}-http)`,
        )
    }
  }
  legacy.label =
    `legacy ${legacy.dns ? `${legacy.dns.host}:${legacy.dns.port}` : ''} ${legacy.http ?? ''}`.trim()
  candidate.label =
    `candidate ${candidate.dns ? `${candidate.dns.host}:${candidate.dns.port}` : ''} ${candidate.http ?? ''}`.trim()
  const suppressions = values.suppress ? loadSuppressions(values.suppress) : []
  const concurrency = Number(values.concurrency ?? 64)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 4096)
    throw new CutoverError('USAGE', '--concurrency must be a whole number from 1 to 4096')

  const targets = [new Target(legacy), new Target(candidate)]
  try {
    for (const t of targets) await t.open()
    for (const t of targets) await checkReachable(t, suites)
    const total = suites.reduce((n, s) => n + s.cases.length, 0)
    const progress = createProgress(total, process.stderr)
    const report = await runSuites(suites, targets[0], targets[1], {
      concurrency,
      suppressions,
      onCase: (r) => progress.tick(r.outcome),
    })
    progress.done()
    const color =
      process.env.FORCE_COLOR !== undefined ||
      (process.stdout.isTTY === true && process.env.NO_COLOR === undefined)
    process.stdout.write(renderTerminal(report, { color }))
    if (values.json) writeFileSync(values.json, renderJson(report))
    if (values.junit) writeFileSync(values.junit, renderJunit(report))
    if (values.html) writeFileSync(values.html, renderHtml(report))
    if (values.upload) {
      const admin = adminOf(values.config, values.admin)
      const body = { suites: positionals, totals: report.totals, html: renderHtml(report) }
      const sent = (await call(admin, 'POST', '/diff-reports', body)) as { id: string }
      process.stderr.write(`report uploaded: ${admin.base}/diff-reports/${sent.id}\n`)
    }
    if (report.totals.error > 0) return 2
    return report.totals.mismatch > 0 || report.expired.length > 0 ? 1 : 0
  } catch (err) {
    if (err instanceof CutoverError && err.source === 'upstream') {
      process.stderr.write(`cutover diff: ${err.message}\n`)
      return 2
    }
    throw err
  } finally {
    for (const t of targets) await t.close()
  }
}
