// Live shadow traffic for DNS: a sampled share of a scope's queries, once
// answered on their path, is also answered on the other path and the two
// answers compared with the harness's code, off the hot path: the work is
// queued for later turns of the event loop, bounded, and shed (counted) when
// the bound is reached, never delaying a real answer. The legacy is asked once
// more as a noise sample, so fields it varies by itself are not regressions.

import type { Counter } from 'prom-client'
import { decodeMessage } from '../../dns/message.ts'
import { createQueryView, readQuery } from '../../dns/query-view.ts'
import { compareDns, describeDns } from '../../flamingo-tests/dns-compare.ts'
import { LiveJudge } from '../../flamingo-tests/live-judge.ts'
import type { ForwardFailure, LegacyExchange } from '../../legacy-adapter/dns-forwarder.ts'
import type { Scope } from '../../rollout/scope.ts'

export interface DnsShadowParts {
  /** Sends a query to the legacy (the engine's forwarder). */
  forward(exchange: LegacyExchange): void
  /** The new path's answer to a query, or undefined when it would not serve it. */
  answerOnNewPath(query: Buffer, sizeLimit: number): Buffer | undefined
  mismatches: Counter<'protocol' | 'scope'>
  shed: { n: number }
  /** True while the process is too busy for shadow work. */
  busy: () => boolean
  maxInFlight: number
  examples: number
  ttlToleranceS: number
}

interface Task {
  scope: Scope
  query: Buffer
  primary: Buffer
  primaryPath: 'new' | 'legacy'
  sizeLimit: number
}

/** One legacy answer for the shadow, delivered to a callback. */
class ShadowQuery implements LegacyExchange {
  readonly query: Buffer
  readonly questionEnd: number
  readonly largeReplies = true
  readonly stream = false
  readonly #done: (reply: Buffer | undefined) => void

  constructor(query: Buffer, questionEnd: number, done: (reply: Buffer | undefined) => void) {
    this.query = Buffer.from(query)
    this.questionEnd = questionEnd
    this.#done = done
  }

  finish(reply: Buffer | undefined, _failure: ForwardFailure | undefined): void {
    this.#done(reply && Buffer.from(reply))
  }
}

export class DnsShadow {
  readonly #p: DnsShadowParts
  readonly #judges = new Map<string, LiveJudge>()
  readonly #queue: Task[] = []
  readonly #view = createQueryView()
  #inFlight = 0
  #scheduled = false

  constructor(parts: DnsShadowParts) {
    this.#p = parts
  }

  judge(scope: string): LiveJudge | undefined {
    return this.#judges.get(scope)
  }

  /** Called after a sampled query was answered; copies what it needs and returns at once. */
  offer(
    scope: Scope,
    query: Buffer,
    response: Buffer,
    length: number,
    primaryPath: 'new' | 'legacy',
    sizeLimit: number,
  ): void {
    if (this.#inFlight + this.#queue.length >= this.#p.maxInFlight || this.#p.busy()) {
      this.#p.shed.n++
      return
    }
    this.#queue.push({
      scope,
      query: Buffer.from(query),
      primary: Buffer.from(response.subarray(0, length)),
      primaryPath,
      sizeLimit,
    })
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.#pump())
    }
  }

  #pump(): void {
    this.#scheduled = false
    for (let task = this.#queue.shift(); task !== undefined; task = this.#queue.shift())
      this.#start(task)
  }

  #start(t: Task): void {
    if (readQuery(t.query, t.query.length, this.#view) !== 0) return
    const questionEnd = this.#view.questionEnd
    this.#inFlight++
    const legacyOnce = (then: (reply: Buffer | undefined) => void) =>
      this.#p.forward(new ShadowQuery(t.query, questionEnd, then))
    if (t.primaryPath === 'new') {
      // The other path is the legacy: ask it twice, the second answer is the noise sample.
      legacyOnce((a) => legacyOnce((b) => this.#finish(t, a, b, t.primary)))
    } else {
      const candidate = this.#p.answerOnNewPath(t.query, t.sizeLimit)
      if (candidate === undefined) {
        this.#inFlight--
        return
      }
      legacyOnce((b) => this.#finish(t, t.primary, b, candidate))
    }
  }

  #finish(
    t: Task,
    legacyA: Buffer | undefined,
    legacyB: Buffer | undefined,
    candidate: Buffer,
  ): void {
    this.#inFlight--
    if (legacyA === undefined) return
    let judge = this.#judges.get(t.scope.id)
    if (!judge) {
      judge = new LiveJudge(this.#p.examples)
      this.#judges.set(t.scope.id, judge)
    }
    try {
      const options = { ttlTolerance: this.#p.ttlToleranceS }
      const a = decodeMessage(legacyA)
      if (legacyB !== undefined) judge.noise(compareDns(a, decodeMessage(legacyB), options))
      const c = decodeMessage(candidate)
      const q = a.questions[0]
      const real = judge.compared(
        `${q?.name} ${q?.type}`,
        compareDns(a, c, options),
        () => describeDns(a),
        () => describeDns(c),
      )
      t.scope.stats.shadowed++
      if (real.length > 0) {
        t.scope.stats.mismatches++
        this.#p.mismatches.inc({ protocol: 'dns', scope: t.scope.id })
      }
    } catch {
      // An answer that does not decode is not a comparison.
    }
  }
}
