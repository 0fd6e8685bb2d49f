// The admin API on loopback: metrics for Prometheus, liveness and readiness,
// the rollout (read it freely; change it with an operator's token, or from a
// console session with its CSRF token), and the console at `/`.

import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { z } from 'zod'
import { duration } from '../../common/units.ts'
import { toBasisPoints } from '../../rollout/bucket.ts'
import type { RolloutService } from '../../rollout/service.ts'
import {
  abortPlan,
  pausePlan,
  promotePlan,
  type RolloutState,
  resumePlan,
  setPercent,
  startPlan,
  type Transition,
  TransitionError,
} from '../../rollout/state.ts'
import { StoreUnavailable, VersionConflict } from '../../rollout/store.ts'
import { consoleRoutes } from './console/routes.ts'
import { startScopeSeries } from './console/scope-series.ts'
import { CSRF_HEADER, consoleSessions, cookieOf, SESSION_COOKIE } from './console/sessions.ts'
import { diffReportRoutes } from './diff-reports.ts'
import type { MetricsSource } from './metrics-listener.ts'
import { type PublishRecord, recordRoutes } from './record-routes.ts'
import { BadRequest, parse } from './request-body.ts'
import { type NamedToken, tokenMatches, tokenOf } from './token.ts'

export interface AdminDeps {
  /** Where /metrics comes from: this process's registry, or the workers' aggregated. */
  registry: MetricsSource
  /** The main admin token (named "admin"). */
  token: string
  /** The state folder: `cutover diff` reports are kept in it. */
  state: string
  /** Every token taken, by name and role (absent: the main one alone). */
  tokens?(): readonly NamedToken[]
  rollout: RolloutService
  /** The live shadow comparison of a scope: per-field rates and the last mismatching examples. */
  shadow(scope: string): Promise<{ examples: readonly unknown[]; fields: readonly unknown[] }>
  /** With workers: the supervisor's view of them (GET /workers). */
  status?(): unknown
  /** Why the proxy is not ready (empty when it is): draining, legacy unreachable... */
  notReady(): string[]
  /** What needs doing soon without making the proxy unready (a certificate expiring). */
  warnings?(): string[]
  /** Record events for the DNS zones (absent without DNS). */
  publishRecord?: PublishRecord
  /** With workers: starts `cutover upgrade`, or throws why it cannot start now. */
  upgrade?(): void
}

const percentBody = z.strictObject({
  percent: z.number(),
  reason: z.string().max(500).optional(),
  /** The state version the change was computed from; a newer state refuses it (409). */
  version: z.int().min(0).optional(),
})

/** The plan actions of POST /rollout/<scope>. */
const actionBody = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('plan'),
    steps: z.array(z.number()).min(1).max(50),
    bake: duration,
    reason: z.string().max(500).optional(),
    version: z.int().min(0).optional(),
  }),
  ...(['pause', 'resume', 'abort', 'promote'] as const).map((action) =>
    z.strictObject({
      action: z.literal(action),
      reason: z.string().max(500).optional(),
      version: z.int().min(0).optional(),
    }),
  ),
])

function percentToBp(p: number): number {
  const bp = toBasisPoints(p)
  if (bp === undefined)
    throw new BadRequest(`percent must be from 0 to 100 in steps of 0.01, got ${p}`)
  return bp
}

export function createAdmin(deps: AdminDeps): FastifyInstance {
  const app = fastify({ logger: false, bodyLimit: 64 * 1024, connectionTimeout: 10_000 })
  const { rollout } = deps

  app.get('/metrics', async (_req, reply) => {
    reply.type(deps.registry.contentType)
    return deps.registry.metrics()
  })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const reasons = deps.notReady()
    reply.code(reasons.length === 0 ? 200 : 503)
    return { ready: reasons.length === 0, reasons, warnings: deps.warnings?.() ?? [] }
  })

  const scopeView = (state: RolloutState, id: string) => {
    const scope = rollout.scopes.get(id)!
    const s = state.scopes[id]
    return {
      scope: id,
      percent: scope.basisPoints / 100,
      servable: scope.servable,
      stickiness:
        scope.stickiness.kind === 'header'
          ? `header:${scope.stickiness.name}`
          : scope.stickiness.kind,
      updatedAt: s?.updatedAt,
      updatedBy: s?.updatedBy,
      plan: s?.plan && {
        ...s.plan,
        steps: s.plan.steps.map((b) => b / 100),
        lastGood: s.plan.lastGood / 100,
      },
      gates: rollout.controller.judgement(id),
    }
  }
  const known = (id: string) => {
    if (!rollout.scopes.has(id))
      throw new NotFound(`unknown scope '${id}'; GET /rollout lists them`)
    return id
  }

  const listing = () => {
    const state = rollout.store.current()
    return {
      version: state.version,
      scopes: [...rollout.scopes.keys()].sort().map((id) => scopeView(state, id)),
      store: rollout.store.health(),
    }
  }
  app.get('/rollout', async () => listing())
  app.get<{ Params: { '*': string } }>('/rollout/*', async (req) => {
    const id = known(req.params['*'])
    return scopeView(rollout.store.current(), id)
  })
  app.get<{ Params: { '*': string } }>('/shadow/*', async (req) => {
    const id = known(req.params['*'])
    const scope = rollout.scopes.get(id)!
    const live = await deps.shadow(id)
    return {
      scope: id,
      shadowPercent: scope.shadowBasisPoints / 100,
      compared: scope.stats.shadowed,
      mismatches: scope.stats.mismatches,
      fields: live.fields,
      examples: live.examples,
    }
  })
  app.get('/workers', async (_req, reply) =>
    deps.status
      ? deps.status()
      : reply.code(404).send({ error: 'this proxy runs without workers (workers: 0)' }),
  )
  app.get<{ Querystring: { scope?: string; limit?: string } }>('/history', async (req) => {
    return {
      entries: await rollout.store.history(
        req.query.scope,
        Math.min(Number(req.query.limit ?? 100) || 100, 10_000),
      ),
    }
  })

  // Everything below changes state: the admin token is required.
  const change = async (
    id: string,
    version: number | undefined,
    t: (s: RolloutState, now: number) => Transition,
  ) => {
    const state = await rollout.store.update((s) => t(s, Date.now()), version)
    return scopeView(state, id)
  }
  const callers = new WeakMap<FastifyRequest, NamedToken>()
  const main: NamedToken[] = [{ name: 'admin', role: 'operator', token: deps.token }]
  const tokens = () => deps.tokens?.() ?? main
  const sessions = consoleSessions(tokens)
  consoleRoutes(app, {
    sessions,
    series: startScopeSeries(() => rollout.scopes),
    rollout: listing,
    onRolloutChange: (listener) => rollout.store.onChange(listener),
    instances: () => rollout.instances(),
    metricsText: () => deps.registry.metrics(),
    status: deps.status,
    notReady: deps.notReady,
    warnings: deps.warnings,
  })
  const requireToken = async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization ?? ''
    const session = header
      ? undefined
      : sessions.callerOf(cookieOf(req.headers.cookie, SESSION_COOKIE))
    if (session) {
      const csrf = req.headers[CSRF_HEADER]
      if (typeof csrf !== 'string' || !tokenMatches(csrf, session.session.csrf))
        return reply
          .code(403)
          .send({ error: `a console change needs the session's ${CSRF_HEADER} header` })
    } else if (!header.startsWith('Bearer '))
      return reply
        .code(401)
        .send({ error: 'this call changes state: send Authorization: Bearer <admin token>' })
    const caller = session?.caller ?? tokenOf(header.slice(7), tokens())
    if (!caller) return reply.code(403).send({ error: 'wrong admin token' })
    if (caller.role !== 'operator')
      return reply
        .code(403)
        .send({ error: `token '${caller.name}' is a viewer's: it can read, not change` })
    callers.set(req, caller)
  }
  /** Who made a change, for its history: the name of the token it came with. */
  const by = (req: FastifyRequest) => callers.get(req)?.name ?? 'admin'
  recordRoutes(app, deps.publishRecord, requireToken)
  diffReportRoutes(app, deps.state, requireToken, by)
  app.put<{ Params: { '*': string } }>('/rollout/*', { preHandler: requireToken }, async (req) => {
    const id = known(req.params['*'])
    const body = parse(percentBody, req.body)
    const bp = percentToBp(body.percent)
    return change(id, body.version, (s, now) =>
      setPercent(s, id, bp, by(req), body.reason ?? 'set by hand', now),
    )
  })
  app.post<{ Params: { '*': string } }>('/rollout/*', { preHandler: requireToken }, async (req) => {
    const id = known(req.params['*'])
    const body = parse(actionBody, req.body)
    return change(id, body.version, (s, now) => {
      switch (body.action) {
        case 'plan':
          return startPlan(s, id, body.steps.map(percentToBp), body.bake, by(req), now, body.reason)
        case 'pause':
          return pausePlan(s, id, by(req), body.reason ?? 'paused by hand', now)
        case 'resume':
          return resumePlan(s, id, by(req), now, body.reason)
        case 'abort':
          return abortPlan(s, id, by(req), body.reason ?? 'aborted by hand', now)
        default:
          return promotePlan(s, id, by(req), body.reason ?? 'promoted by hand', now)
      }
    })
  })

  app.post('/upgrade', { preHandler: requireToken }, async (_req, reply) => {
    if (!deps.upgrade)
      return reply
        .code(404)
        .send({ error: 'the proxy runs without workers (workers: 0): it cannot upgrade in place' })
    try {
      deps.upgrade()
    } catch (err) {
      return reply.code(409).send({ error: (err as Error).message })
    }
    return reply.code(202).send({ upgrading: true, from: process.pid })
  })

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BadRequest || err instanceof TransitionError)
      return reply.code(400).send({ error: err.message })
    if (err instanceof NotFound) return reply.code(404).send({ error: err.message })
    if (err instanceof VersionConflict) return reply.code(409).send({ error: err.message })
    if (err instanceof StoreUnavailable) return reply.code(503).send({ error: err.message })
    const status = (err as { statusCode?: number }).statusCode
    if (status && status < 500) return reply.code(status).send({ error: (err as Error).message })
    return reply.code(500).send({ error: (err as Error).message })
  })
  return app
}

class NotFound extends Error {}
