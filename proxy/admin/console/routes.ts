// The operator's console on the admin listener: the page at `/` (plain HTML,
// CSS and one script, no build step), sign-in and sign-out, the live state as
// server-sent events, and each scope's last hour. Everything but the page and
// the sign-in needs a session; changes go through the admin API's own routes
// (with the session's CSRF token), so the console can do nothing the API
// would not let its token do.

import { readdirSync, readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { NamedToken } from '../token.ts'
import { type Readings, readingsOf } from './readings.ts'
import type { ScopeSeries } from './scope-series.ts'
import { cookieOf, SESSION_COOKIE, type Sessions } from './sessions.ts'

const PAGE_DIR = join(import.meta.dirname, 'page')
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
}
/** Scripts and styles from this origin only, no framing: an injected script or a clickjacking frame gets nowhere. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
const EVENT_EVERY_MS = 2000
const MAX_EVENT_STREAMS = 64
const READINGS_EVERY_MS = 5000
const MAX_UNREAD_BYTES = 1024 * 1024

export interface ConsoleDeps {
  sessions: Sessions
  series: ScopeSeries
  /** What GET /rollout shows. */
  rollout(): unknown
  /** Calls `listener` on every change of the rollout state, so the consoles see it at once. */
  onRolloutChange(listener: () => void): void
  /** With workers: the supervisor's view of them. */
  status?(): unknown
  /** With a Redis store: the instances of the fleet. */
  instances?(): unknown
  /** The proxy's metrics as Prometheus text (what /metrics serves). */
  metricsText(): Promise<string>
  notReady(): string[]
  warnings?(): string[]
}

function who(caller: NamedToken) {
  return { name: caller.name, role: caller.role }
}

export function consoleRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { sessions } = deps
  // The page at `/`, its scripts and styles under /console/: read once, served from memory.
  const assets = readdirSync(PAGE_DIR).map((file) => ({
    path: file === 'index.html' ? '/' : `/console/${file}`,
    body: readFileSync(join(PAGE_DIR, file)),
    type: TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
  }))
  for (const asset of assets)
    app.get(asset.path, async (_req, reply) =>
      reply
        .type(asset.type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .send(asset.body),
    )

  const sessionOf = (req: FastifyRequest) =>
    sessions.callerOf(cookieOf(req.headers.cookie, SESSION_COOKIE))
  const signedIn = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!sessionOf(req)) return reply.code(401).send({ error: 'sign in with an admin token first' })
  }

  app.post<{ Body: { token?: unknown } }>('/console/sign-in', async (req, reply) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : ''
    const opened = token ? sessions.open(token) : undefined
    if (!opened) return reply.code(403).send({ error: 'no admin token matches' })
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${opened.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${sessions.maxAgeSeconds}`,
    )
    return { signedIn: true, ...who(opened.caller), csrf: opened.session.csrf }
  })
  app.post('/console/sign-out', async (req, reply) => {
    sessions.close(cookieOf(req.headers.cookie, SESSION_COOKIE))
    reply.header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`)
    return { signedOut: true }
  })
  // Never the CSRF token here: the cookie also reaches every other port of this
  // host, and what it alone can get must not be enough to change anything.
  app.get('/console/session', async (req) => {
    const s = sessionOf(req)
    return s ? { signedIn: true, ...who(s.caller) } : { signedIn: false }
  })

  // Read from the metrics while a console is open: each read asks every worker.
  let readings: Readings = { certificates: [], fallbacks: {} }
  let readAt = 0
  const read = () => {
    if (Date.now() - readAt < READINGS_EVERY_MS) return
    readAt = Date.now()
    deps.metricsText().then(
      (text) => {
        readings = readingsOf(text)
      },
      () => {}, // the last readings stand
    )
  }
  const state = () => ({
    at: Date.now(),
    rollout: deps.rollout(),
    rates: deps.series.latest(),
    readings,
    process: {
      status: deps.status?.(),
      instances: deps.instances?.(),
      notReady: deps.notReady(),
      warnings: deps.warnings?.() ?? [],
    },
  })
  app.get('/console/state', { preHandler: signedIn }, async () => state())
  app.get<{ Params: { '*': string } }>(
    '/console/series/*',
    { preHandler: signedIn },
    async (req) => ({ scope: req.params['*'], points: deps.series.of(req.params['*']) }),
  )

  // One state per tick (or rollout change) for every open console, and one timer for them all.
  const streams = new Map<ServerResponse, FastifyRequest>()
  let timer: NodeJS.Timeout | undefined
  const sendTo = (targets: Iterable<[ServerResponse, FastifyRequest]>) => {
    read()
    const event = `event: state\ndata: ${JSON.stringify(state())}\n\n`
    for (const [res, req] of targets) {
      // A session closed meanwhile (sign-out, token gone) ends the stream.
      if (!sessionOf(req)) res.end()
      // A console that stopped reading is let go, not buffered for.
      else if (res.writableLength > MAX_UNREAD_BYTES) res.destroy()
      else res.write(event)
    }
  }
  deps.onRolloutChange(() => {
    if (streams.size > 0) sendTo(streams)
  })
  // Open streams would hold the admin listener's close (a stop, an upgrade) forever.
  app.addHook('preClose', async () => {
    deps.series.stop()
    for (const res of streams.keys()) res.end()
  })
  app.get('/console/events', { preHandler: signedIn }, async (req, reply) => {
    if (streams.size >= MAX_EVENT_STREAMS)
      return reply.code(503).send({ error: `${MAX_EVENT_STREAMS} consoles are open already` })
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    })
    sendTo([[res, req]])
    streams.set(res, req)
    timer ??= setInterval(() => sendTo(streams), EVENT_EVERY_MS)
    res.once('close', () => {
      streams.delete(res)
      if (streams.size === 0) {
        clearInterval(timer)
        timer = undefined
      }
    })
  })
}
