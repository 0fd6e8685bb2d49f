// The reports of recent `cutover diff` runs, for the console: `cutover diff
// --upload` posts each run's HTML report with its totals (an operator's token
// needed); the last 50 are kept in the state folder's diff-reports/. A report
// is served in a sandbox of its own: its scripts run, but as another origin,
// with no reach to the console's session or the admin API.

import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, preHandlerHookHandler } from 'fastify'
import { z } from 'zod'
import { parse } from './request-body.ts'

const KEEP = 50
const MAX_REPORT_BYTES = 8 * 1024 * 1024
const ID = /^\d{13}-[0-9a-f]{8}$/

const upload = z.strictObject({
  suites: z.array(z.string().max(500)).max(100),
  totals: z.record(z.string().max(50), z.int().min(0)),
  html: z.string().max(MAX_REPORT_BYTES),
})

export interface DiffReportMeta {
  id: string
  at: number
  by: string
  suites: string[]
  totals: Record<string, number>
}

export function diffReportRoutes(
  app: FastifyInstance,
  state: string,
  requireToken: preHandlerHookHandler,
  by: (req: Parameters<preHandlerHookHandler>[0]) => string,
): void {
  const dir = join(state, 'diff-reports')
  const ids = () =>
    readdirSync(dir, { withFileTypes: true })
      .map((f) => f.name.replace(/\.json$/, ''))
      .filter((id) => ID.test(id))
      .sort()
  mkdirSync(dir, { recursive: true })

  app.post(
    '/diff-reports',
    { preHandler: requireToken, bodyLimit: MAX_REPORT_BYTES + 64 * 1024 },
    async (req, reply) => {
      const body = parse(upload, req.body)
      const at = Date.now()
      const id = `${at}-${randomBytes(4).toString('hex')}`
      const meta: DiffReportMeta = { id, at, by: by(req), suites: body.suites, totals: body.totals }
      writeFileSync(join(dir, `${id}.html`), body.html)
      writeFileSync(join(dir, `${id}.json`), JSON.stringify(meta))
      for (const old of ids().slice(0, -KEEP))
        for (const ext of ['.html', '.json']) rmSync(join(dir, old + ext), { force: true })
      return reply.code(201).send(meta)
    },
  )
  app.get('/diff-reports', async () => ({
    reports: ids()
      .reverse()
      .map((id) => JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as DiffReportMeta),
  }))
  app.get<{ Params: { id: string } }>('/diff-reports/:id', async (req, reply) => {
    const { id } = req.params
    if (!ID.test(id) || !ids().includes(id))
      return reply.code(404).send({ error: `no diff report '${id}'; GET /diff-reports lists them` })
    return (
      reply
        .type('text/html; charset=utf-8')
        // Its own inline script and styles run, as another origin, and it can fetch nothing.
        .header(
          'content-security-policy',
          "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:",
        )
        .header('x-content-type-options', 'nosniff')
        .send(readFileSync(join(dir, `${id}.html`)))
    )
  })
}
