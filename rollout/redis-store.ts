// The fleet rollout store: the state in a Redis hash (one field per scope plus
// the version), written with WATCH/MULTI so a write computed from an old version
// fails instead of overwriting; every write published, so every instance
// applies it within a second; history in a Redis stream. When Redis is down an
// instance keeps its last known state (also kept in a local snapshot file for
// restarts) and says so; it never falls back to defaults.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { Redis } from 'ioredis'
import {
  type HistoryEntry,
  type RolloutState,
  scopeStateSchema,
  stateSchema,
  type Transition,
} from './state.ts'
import { type RolloutStore, type StoreHealth, StoreUnavailable, VersionConflict } from './store.ts'
import { versionConflict } from './version-check.ts'

export interface RedisStoreOptions {
  url: string
  prefix: string
  /** Local copy of the last state seen, for starting while Redis is down. */
  snapshotFile: string
  initial: (state: RolloutState) => Transition
  log: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void }
}

const HISTORY_MAX = 10_000

export class RedisStore implements RolloutStore {
  readonly #client: Redis
  readonly #subscriber: Redis
  readonly #keys: { state: string; channel: string; history: string }
  readonly #options: RedisStoreOptions
  readonly #listeners: ((s: RolloutState) => void)[] = []
  #state: RolloutState

  private constructor(options: RedisStoreOptions) {
    this.#options = options
    const p = options.prefix
    this.#keys = {
      state: `${p}:rollout:state`,
      channel: `${p}:rollout:changed`,
      history: `${p}:rollout:history`,
    }
    const redisOptions = {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    }
    this.#client = new Redis(options.url, redisOptions)
    this.#subscriber = new Redis(options.url, redisOptions)
    this.#client.on('error', () => {})
    this.#subscriber.on('error', () => {})
    this.#state = options.initial(this.#snapshot()).state
  }

  /** Connects and loads the shared state; when Redis cannot be reached, starts from the snapshot and keeps trying. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options)
    store.#client.on('ready', () => {
      store
        .#sync()
        .catch((err) =>
          options.log.warn(
            { err: (err as Error).message },
            'rollout: reading the state from Redis failed',
          ),
        )
    })
    store.#subscriber.on('message', () => {
      store.#load().catch(() => {})
    })
    store.#subscriber.on('ready', () => {
      store.#subscriber.subscribe(store.#keys.channel).catch(() => {})
    })
    await Promise.allSettled([store.#client.connect(), store.#subscriber.connect()])
    if (store.#client.status === 'ready') await store.#sync()
    else
      options.log.warn(
        { url: options.url },
        `rollout: Redis unreachable; serving the last known state (version ${store.#state.version}) until it is back`,
      )
    return store
  }

  current(): RolloutState {
    return this.#state
  }

  async update(
    change: (state: RolloutState) => Transition,
    expectedVersion?: number,
  ): Promise<RolloutState> {
    if (this.#client.status !== 'ready')
      throw new StoreUnavailable(
        `Redis at ${this.#options.url} is unreachable; rollout changes need it`,
      )
    for (let attempt = 0; attempt < 10; attempt++) {
      await this.#client.watch(this.#keys.state)
      const latest = await this.#read()
      const conflict = versionConflict(latest, expectedVersion)
      if (conflict) {
        await this.#client.unwatch()
        throw conflict
      }
      const t = change(latest)
      if (t.state === latest) {
        await this.#client.unwatch()
        return latest
      }
      const tx = this.#client.multi().del(this.#keys.state).hset(this.#keys.state, fields(t.state))
      for (const e of t.entries)
        tx.xadd(this.#keys.history, 'MAXLEN', '~', HISTORY_MAX, '*', 'entry', JSON.stringify(e))
      tx.publish(this.#keys.channel, String(t.state.version))
      if ((await tx.exec()) !== null) {
        this.#apply(t.state)
        return t.state
      }
      // Someone else wrote between our read and our write: compute again from theirs.
      if (expectedVersion !== undefined)
        throw new VersionConflict('the rollout state moved on while writing; look again and retry')
    }
    throw new VersionConflict('the rollout state kept changing under ten attempts to write it')
  }

  onChange(listener: (s: RolloutState) => void): void {
    this.#listeners.push(listener)
  }

  async history(scope?: string, limit = 100): Promise<HistoryEntry[]> {
    if (this.#client.status !== 'ready') return []
    const rows = await this.#client.xrevrange(this.#keys.history, '+', '-', 'COUNT', HISTORY_MAX)
    const entries = rows
      .map(([, values]) => JSON.parse(values[1]) as HistoryEntry)
      .filter((e) => scope === undefined || e.scope === scope)
    return entries.slice(0, limit).reverse()
  }

  health(): StoreHealth {
    return this.#client.status === 'ready'
      ? { ok: true }
      : {
          ok: false,
          detail: `Redis at ${this.#options.url} is unreachable; serving the last known rollout state (version ${this.#state.version})`,
        }
  }

  async close(): Promise<void> {
    this.#client.disconnect()
    this.#subscriber.disconnect()
  }

  /** On (re)connect: add our scopes the shared state lacks, then take the shared state. */
  async #sync(): Promise<void> {
    await this.update((s) => this.#options.initial(s))
    await this.#load()
  }

  async #load(): Promise<void> {
    this.#apply(await this.#read())
  }

  async #read(): Promise<RolloutState> {
    const raw = await this.#client.hgetall(this.#keys.state)
    const scopes: RolloutState['scopes'] = {}
    for (const [field, value] of Object.entries(raw)) {
      if (!field.startsWith('scope:')) continue
      const parsed = scopeStateSchema.safeParse(JSON.parse(value))
      if (parsed.success) scopes[field.slice(6)] = parsed.data
      else
        this.#options.log.warn(
          { scope: field.slice(6) },
          'rollout: ignoring a malformed scope in Redis',
        )
    }
    return { version: Number(raw.version ?? 0), scopes }
  }

  #apply(state: RolloutState): void {
    const changed = state.version !== this.#state.version
    this.#state = state
    this.#saveSnapshot()
    if (changed) for (const l of this.#listeners) l(state)
  }

  #snapshot(): RolloutState {
    const empty: RolloutState = { version: 0, scopes: {} }
    if (!existsSync(this.#options.snapshotFile)) return empty
    const parsed = stateSchema.safeParse(
      JSON.parse(readFileSync(this.#options.snapshotFile, 'utf8')),
    )
    return parsed.success ? parsed.data : empty
  }

  #saveSnapshot(): void {
    mkdirSync(dirname(this.#options.snapshotFile), { recursive: true })
    const tmp = `${this.#options.snapshotFile}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(this.#state))
    renameSync(tmp, this.#options.snapshotFile)
  }
}

function fields(state: RolloutState): Record<string, string> {
  const out: Record<string, string> = { version: String(state.version) }
  for (const [scope, s] of Object.entries(state.scopes)) out[`scope:${scope}`] = JSON.stringify(s)
  return out
}
