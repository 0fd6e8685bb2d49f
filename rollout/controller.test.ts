// The plan controller, tick by tick, with an in-memory store, counters we set
// and a clock we move: advance after the bake, hold when unsure, roll back at
// once on a breach, and nothing at all without the lease.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Controller, type StatsSource } from './controller.ts'
import { FileStore } from './file-store.ts'
import { limits } from './gates-test-support.ts'
import { recordLatency } from './latency.ts'
import { newStats, type ScopeStats } from './scope.ts'
import {
  abortPlan,
  type HistoryEntry,
  pausePlan,
  type RolloutState,
  resumePlan,
  startPlan,
  type Transition,
  withInitialScopes,
} from './state.ts'
import { type RolloutStore, type StoreHealth, VersionConflict } from './store.ts'

const S = 'dns:example.test'
const BAKE = 60_000

/** The RolloutStore contract in memory. */
class MemoryStore implements RolloutStore {
  state: RolloutState
  readonly entries: HistoryEntry[] = []
  readonly #listeners: ((s: RolloutState) => void)[] = []

  constructor(state: RolloutState) {
    this.state = state
  }

  current(): RolloutState {
    return this.state
  }

  async update(
    change: (state: RolloutState) => Transition,
    expectedVersion?: number,
  ): Promise<RolloutState> {
    if (expectedVersion !== undefined && expectedVersion !== this.state.version)
      throw new VersionConflict('moved on')
    const t = change(this.state)
    if (t.state === this.state) return this.state
    this.state = t.state
    this.entries.push(...t.entries)
    for (const l of this.#listeners) l(this.state)
    return this.state
  }

  onChange(listener: (s: RolloutState) => void): void {
    this.#listeners.push(listener)
  }

  async history(scope?: string): Promise<HistoryEntry[]> {
    return this.entries.filter((e) => scope === undefined || e.scope === scope)
  }

  health(): StoreHealth {
    return { ok: true }
  }

  async close(): Promise<void> {}
}

/** Requests served: answered and failed on the new path, fallbacks, and legacy requests. */
interface Served {
  ok?: number
  errors?: number
  legacy?: number
  fallbacks?: number
}

/** Counters that grow as traffic is "served". */
class Traffic implements StatsSource {
  readonly stats = new Map<string, ScopeStats>()

  snapshot(scope: string): ScopeStats | undefined {
    return this.stats.get(scope)
  }

  serve(scope: string, t: Served) {
    let s = this.stats.get(scope)
    if (!s) {
      s = newStats()
      this.stats.set(scope, s)
    }
    const n = (t.ok ?? 0) + (t.errors ?? 0)
    s.newRequests += n
    s.newErrors += t.errors ?? 0
    s.fallbacks += t.fallbacks ?? 0
    s.legacyRequests += t.legacy ?? 0
    for (let i = 0; i < n; i++) recordLatency(s.newLatency, 0.001)
    for (let i = 0; i < (t.legacy ?? 0); i++) recordLatency(s.legacyLatency, 0.001)
  }
}

interface Logged {
  level: 'info' | 'warn'
  obj: object
  msg?: string
}

let clock: number
let logged: Logged[]
let store: MemoryStore
let traffic: Traffic

interface ControllerOptions {
  store?: RolloutStore
  leading?: () => boolean
  rollbackToZero?: boolean
}

function controller(options: ControllerOptions = {}): Controller {
  return new Controller({
    store: options.store ?? store,
    stats: traffic,
    limits,
    rollbackToZero: options.rollbackToZero ?? false,
    leading: options.leading ?? (() => true),
    log: {
      info: (obj, msg) => logged.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => logged.push({ level: 'warn', obj, msg }),
    },
    now: () => clock,
  })
}

/**
 * One step's window: the tick that opens it, `served` on S, `ms` later (a whole
 * bake by default) the tick that judges it.
 */
async function bake(c: Controller, served: Served, ms = BAKE): Promise<void> {
  await c.tick()
  traffic.serve(S, served)
  clock += ms
  await c.tick()
}

/** Starts the plan 1,5,25 with a one-minute bake now. */
async function plan(): Promise<void> {
  await store.update((s) => startPlan(s, S, [100, 500, 2500], BAKE, 'admin', clock))
}

/** A controller (with `options`) over the plan 1,5,25 started now. */
async function planned(options: ControllerOptions = {}): Promise<Controller> {
  const c = controller(options)
  await plan()
  return c
}

/** S is still at `bp`: the controller holds it there, saying `why`. */
function expectHeld(c: Controller, bp: number, why: string): void {
  expect(store.state.scopes[S].basisPoints).toBe(bp)
  const j = c.judgement(S)
  expect(j?.kind).toBe('hold')
  expect(j?.kind === 'hold' && j.why).toContain(why)
}

beforeEach(() => {
  clock = 1_000_000
  logged = []
  store = new MemoryStore(
    withInitialScopes(
      { version: 0, scopes: {} },
      new Map([
        [S, 0],
        ['dns:other.test', 0],
      ]),
      0,
    ).state,
  )
  traffic = new Traffic()
  traffic.serve(S, {})
})

describe('Controller.tick', () => {
  it('advances a step once it has baked with its gates holding', async () => {
    const c = await planned()
    const started = clock
    await c.tick() // the step's window starts here
    traffic.serve(S, { ok: 200, legacy: 600 })
    clock = started + BAKE - 1
    await c.tick()
    expect(store.state.scopes[S].basisPoints).toBe(100)
    expect(c.judgement(S)?.kind).toBe('pass')
    clock = started + BAKE
    await c.tick()
    expect(store.state.scopes[S].basisPoints).toBe(500)
    expect(store.state.scopes[S].plan).toMatchObject({
      step: 1,
      status: 'running',
      stepStartedAt: clock,
      lastGood: 100,
    })
    expect(store.entries.at(-1)).toEqual({
      at: clock,
      scope: S,
      from: 100,
      to: 500,
      by: 'controller',
      action: 'advance',
      why: 'step 1 of 3 baked 60 s with its gates holding',
      gates: expect.arrayContaining([
        { gate: 'error-rate', value: 0, limit: 0.01, samples: 200, state: 'ok' },
      ]),
    })
    expect(logged).toContainEqual({
      level: 'info',
      obj: { scope: S, why: 'step 1 of 3 baked 60 s with its gates holding' },
      msg: 'rollout: advancing',
    })
  })

  it('walks a plan to done, one step per bake', async () => {
    const c = await planned()
    for (const want of [500, 2500]) {
      await bake(c, { ok: 150, legacy: 150 })
      expect(store.state.scopes[S].basisPoints).toBe(want)
    }
    await bake(c, { ok: 150, legacy: 150 })
    expect(store.state.scopes[S].basisPoints).toBe(2500)
    expect(store.state.scopes[S].plan?.status).toBe('done')
    expect(store.entries.at(-1)?.action).toBe('done')
    // A finished plan is left alone.
    const version = store.state.version
    clock += 10 * BAKE
    await c.tick()
    expect(store.state.version).toBe(version)
    expect(c.judgement(S)).toBeUndefined()
  })

  it('holds while the gates are inconclusive, however long after the bake', async () => {
    const c = await planned()
    await c.tick()
    traffic.serve(S, { ok: 99, legacy: 1000 })
    for (const later of [BAKE, 10 * BAKE, 100 * BAKE]) {
      clock += later
      await c.tick()
      expectHeld(c, 100, 'error-rate has 99 of 100 samples')
    }
    expect(store.state.scopes[S].plan?.step).toBe(0)
  })

  it('holds with no traffic at all, and a scope without counters is skipped', async () => {
    const c = await planned()
    await store.update((s) => startPlan(s, 'dns:other.test', [100], 0, 'admin', clock))
    await c.tick()
    clock += 10 * BAKE
    await c.tick()
    expect(store.state.scopes[S].basisPoints).toBe(100)
    expect(store.state.scopes['dns:other.test'].plan?.status).toBe('running')
    expect(c.judgement('dns:other.test')).toBeUndefined()
  })

  it('rolls back at once on a breach, to the last good percentage, pausing the plan with why', async () => {
    const c = await planned()
    await bake(c, { ok: 150, legacy: 150 })
    expect(store.state.scopes[S].basisPoints).toBe(500)
    await bake(c, { ok: 180, errors: 20, legacy: 200 }, 1000) // long before the bake is over
    const why = 'error-rate 10.00% over 0.01 (200 samples)'
    expect(store.state.scopes[S]).toMatchObject({
      basisPoints: 100,
      updatedBy: 'controller',
      plan: { status: 'paused', step: 1, note: `rolled back: ${why}` },
    })
    expect(store.entries.at(-1)).toEqual({
      at: clock,
      scope: S,
      from: 500,
      to: 100,
      by: 'controller',
      action: 'rollback',
      why,
      gates: expect.arrayContaining([
        { gate: 'error-rate', value: 0.1, limit: 0.01, samples: 200, state: 'breached' },
      ]),
    })
    expect(logged).toContainEqual({
      level: 'warn',
      obj: { scope: S, why },
      msg: 'rollout: gate breached, rolling back',
    })
    // Paused: no more moves.
    const version = store.state.version
    clock += 10 * BAKE
    await c.tick()
    expect(store.state.version).toBe(version)
  })

  it('rolls back to zero when so configured', async () => {
    const c = await planned({ rollbackToZero: true })
    await bake(c, { ok: 150, legacy: 150 })
    await bake(c, { ok: 100, fallbacks: 100, legacy: 200 }, 1000)
    expect(store.state.scopes[S].basisPoints).toBe(0)
    expect(store.state.scopes[S].plan?.status).toBe('paused')
    expect(store.entries.at(-1)).toMatchObject({ from: 500, to: 0, action: 'rollback' })
  })

  it('does nothing while it does not lead', async () => {
    let leading = false
    const c = await planned({ leading: () => leading })
    const version = store.state.version
    for (let i = 0; i < 3; i++) {
      await c.tick()
      traffic.serve(S, { errors: 500, legacy: 500 })
      clock += BAKE
    }
    await c.tick()
    expect(store.state.version).toBe(version)
    expect(store.state.scopes[S].basisPoints).toBe(100)
    expect(c.judgement(S)).toBeUndefined()
    // Taking the lease: its window starts then, so earlier traffic does not count.
    leading = true
    await c.tick()
    expect(store.state.version).toBe(version)
    expect(c.judgement(S)?.kind).toBe('hold')
  })

  it('starts the window at the step: counters from before it do not count', async () => {
    const c = controller()
    // Before the plan: a disaster on the new path.
    traffic.serve(S, { errors: 1000, legacy: 1000 })
    await c.tick()
    await plan()
    await bake(c, { ok: 150, legacy: 150 })
    expect(store.state.scopes[S].basisPoints).toBe(500)
    // The next step's window starts at that step: step 1's 150 requests do not count for step 2.
    await bake(c, { ok: 50, legacy: 50 })
    expectHeld(c, 500, 'error-rate has 50 of 100 samples')
  })

  it('starts the window over when a plan resumes', async () => {
    const c = await planned()
    await c.tick()
    traffic.serve(S, { ok: 90, legacy: 90 })
    await store.update((s) => pausePlan(s, S, 'admin', 'lunch', clock))
    clock += 1000
    await store.update((s) => resumePlan(s, S, 'admin', clock))
    await bake(c, { ok: 20, legacy: 20 })
    // 90 + 20 would be enough; 20 since the resume is not.
    expectHeld(c, 100, 'error-rate has 20 of 100 samples')
  })

  it('logs a store failure and keeps going', async () => {
    const c = await planned()
    await c.tick()
    traffic.serve(S, { ok: 150, legacy: 150 })
    clock += BAKE
    const update = store.update.bind(store)
    store.update = async () => {
      throw new Error('disk full')
    }
    await c.tick()
    expect(logged).toContainEqual({
      level: 'warn',
      obj: { err: 'disk full' },
      msg: 'rollout: controller tick failed',
    })
    store.update = update
    await c.tick()
    expect(store.state.scopes[S].basisPoints).toBe(500)
  })
})

describe('Controller with a state another process changes', () => {
  let dir: string
  const stores: FileStore[] = []

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cutover-controller-'))
  })
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function open(): FileStore {
    const s = new FileStore(
      join(dir, 'rollout.json'),
      (st) => withInitialScopes(st, new Map([[S, 0]]), 0),
      () => {},
    )
    stores.push(s)
    return s
  }

  it('does not advance a plan another process paused since its last look', async () => {
    const mine = open()
    const theirs = open()
    await mine.update((s) => startPlan(s, S, [100, 500], BAKE, 'admin', clock))
    const c = controller({ store: mine })
    await c.tick()
    await theirs.update((s) => pausePlan(s, S, 'admin', 'hold on', clock))
    traffic.serve(S, { ok: 150, legacy: 150 })
    clock += BAKE
    await c.tick()
    expect(theirs.current().scopes[S]).toMatchObject({
      basisPoints: 100,
      plan: { status: 'paused', step: 0 },
    })
  })

  it('does not undo an abort another process made since its last look', async () => {
    const mine = open()
    const theirs = open()
    await mine.update((s) => advanceTo500(s))
    const c = controller({ store: mine })
    await c.tick()
    // An operator aborts on another process: everything back to the legacy.
    await theirs.update((s) => abortPlan(s, S, 'admin', 'kill switch', clock))
    // Our view is still the running plan (no watch yet): the gates breach on it.
    traffic.serve(S, { ok: 100, errors: 100, legacy: 200 })
    clock += 1000
    await c.tick()
    const after = (await theirs.update((s) => ({ state: s, entries: [] }))).scopes[S]
    expect(after.basisPoints).toBe(0)
    expect(after.plan?.status).toBe('aborted')
  })

  function advanceTo500(s: RolloutState): Transition {
    const t = startPlan(s, S, [100, 500, 2500], BAKE, 'admin', clock)
    const plan = t.state.scopes[S].plan!
    return {
      state: {
        ...t.state,
        scopes: {
          ...t.state.scopes,
          [S]: {
            ...t.state.scopes[S],
            basisPoints: 500,
            plan: { ...plan, step: 1, lastGood: 100 },
          },
        },
      },
      entries: t.entries,
    }
  }
})
