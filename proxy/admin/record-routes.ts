// The admin API's record calls: POST /zones/<zone>/records creates a record
// (or, with "old", updates one), DELETE removes one. Each goes into the record
// log like any other event and is answered once this proxy applied it.

import type { FastifyInstance, FastifyReply, preHandlerAsyncHookHandler } from 'fastify'
import type { z } from 'zod'
import { type RecordEventBody, recordSchema } from '../../modules/authoritative/record-event.ts'
import type { Published } from '../records/feed.ts'

const createBody = recordSchema.extend({ old: recordSchema.optional() })

/** Publishes an event and waits for its outcome (undefined: not applied within the wait). */
export type PublishRecord = (body: RecordEventBody) => Promise<Published | undefined>

export function recordRoutes(
  app: FastifyInstance,
  publish: PublishRecord | undefined,
  requireToken: preHandlerAsyncHookHandler,
): void {
  const handle = async (
    zone: string,
    op: RecordEventBody['op'],
    body: z.output<typeof createBody>,
    reply: FastifyReply,
  ) => {
    if (!publish) return reply.code(404).send({ error: 'this proxy serves no DNS' })
    const outcome = await publish({ ...body, op, zone })
    if (!outcome)
      return reply
        .code(202)
        .send({ result: 'pending', detail: 'in the log, not yet applied here within 5 s' })
    if (outcome.result === 'refused') return reply.code(422).send(outcome)
    return outcome
  }
  const parse = <S extends z.ZodType>(schema: S, body: unknown, reply: FastifyReply) => {
    const r = schema.safeParse(body ?? {})
    if (r.success) return r.data as z.output<S>
    reply.code(400).send({
      error: r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    })
    return undefined
  }
  app.post<{ Params: { zone: string } }>(
    '/zones/:zone/records',
    { preHandler: requireToken },
    async (req, reply) => {
      const body = parse(createBody, req.body, reply)
      if (!body) return reply
      return handle(req.params.zone, body.old ? 'update' : 'create', body, reply)
    },
  )
  app.delete<{ Params: { zone: string } }>(
    '/zones/:zone/records',
    { preHandler: requireToken },
    async (req, reply) => {
      const body = parse(recordSchema, req.body, reply)

      if (!body) return reply
      return handle(req.params.zone, 'delete', body, reply)
    },
  )
}
