// The embedded rollout store: a JSON state file next to the config, written
// atomically (temporary file, fsync, rename) and watched, so every process on
// the machine sees one truth within a second; the audit history is an
// append-only JSON-lines file beside it.

import {
  appendFileSync,
  closeSync,
  existsSync,
  type FSWatcher,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  watch,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { CutoverError } from '../common/cutover-error.ts'
import { type HistoryEntry, type RolloutState, stateSchema, type Transition } from './state.ts'
import { type RolloutStore, type StoreHealth, StoreUnavailable } from './store.ts'
import { versionConflict } from './version-check.ts'

/** How often the file is checked even when no watch event came (network filesystems miss them). */
const POLL_MS = 500

/** Removes a half-written file, if there is one to remove. */
function removeQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // never made, or not a file of ours
  }
}

export class FileStore implements RolloutStore {
  readonly #file: string
  readonly #historyFile: string
  readonly #listeners: ((s: RolloutState) => void)[] = []
  #state: RolloutState
  #health: StoreHealth = { ok: true }
  #watcher: FSWatcher | undefined
  #poll: NodeJS.Timeout | undefined
  #raw = ''
  /** Why the last transition is missing from the history, if it is. */
  #historyGap: string | undefined

  /** Reads `file`; a missing file is created from `initial`, a corrupt one is an error naming it. */
  constructor(file: string, initial: (state: RolloutState) => Transition, onCreate: () => void) {
    this.#file = file
    this.#historyFile = join(dirname(file), `${basename(file, '.json')}-history.jsonl`)
    mkdirSync(dirname(file), { recursive: true })
    const empty: RolloutState = { version: 0, scopes: {} }
    const loaded = existsSync(file) ? this.#read() : undefined
    if (!loaded) onCreate()
    const t = initial(loaded ?? empty)
    this.#state = t.state
    if (!loaded || t.entries.length > 0) this.#persist(t)
  }

  current(): RolloutState {
    return this.#state
  }

  async update(
    change: (state: RolloutState) => Transition,
    expectedVersion?: number,
  ): Promise<RolloutState> {
    // Another process may have written since our last look: start from the file.
    this.#reload()
    const conflict = versionConflict(this.#state, expectedVersion)
    if (conflict) throw conflict
    const t = change(this.#state)
    if (t.state === this.#state) return this.#state
    this.#persist(t)
    this.#emit()
    return this.#state
  }

  onChange(listener: (s: RolloutState) => void): void {
    this.#listeners.push(listener)
    if (this.#watcher || this.#poll) return
    try {
      this.#watcher = watch(dirname(this.#file), (_event, name) => {
        if (name === basename(this.#file)) this.#reload()
      })
      this.#watcher.unref()
    } catch {
      // Polling below still notices changes.
    }
    this.#poll = setInterval(() => this.#reload(), POLL_MS)
    this.#poll.unref()
  }

  async history(scope?: string, limit = 100): Promise<HistoryEntry[]> {
    if (!existsSync(this.#historyFile)) return []
    const entries = readFileSync(this.#historyFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as HistoryEntry)
      .filter((e) => scope === undefined || e.scope === scope)
    return entries.slice(-limit)
  }

  health(): StoreHealth {
    return this.#historyGap ? { ok: false, detail: this.#historyGap } : this.#health
  }

  async close(): Promise<void> {
    this.#watcher?.close()
    clearInterval(this.#poll)
  }

  #read(): RolloutState {
    const raw = readFileSync(this.#file, 'utf8')
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch (err) {
      throw new CutoverError(
        'CONFIG_INVALID',
        `rollout state ${this.#file} is not valid JSON (${(err as Error).message}); fix it or move it away to start from the config's percentages`,
      )
    }
    const result = stateSchema.safeParse(parsed)
    if (!result.success) {
      const why = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
      throw new CutoverError(
        'CONFIG_INVALID',
        `rollout state ${this.#file} is not a rollout state (${why}); fix it or move it away to start from the config's percentages`,
      )
    }
    this.#raw = raw
    return result.data
  }

  /** Picks up another process's write; a file broken at run time keeps the last good state and says so. */
  #reload(): void {
    let raw: string
    try {
      raw = readFileSync(this.#file, 'utf8')
    } catch {
      this.#health = {
        ok: false,
        detail: `rollout state ${this.#file} cannot be read; serving version ${this.#state.version}`,
      }
      return
    }
    if (raw === this.#raw) {
      // The last good state, as it was (a broken file put back, or our own write).
      this.#health = { ok: true }
      return
    }
    try {
      const next = this.#read()
      this.#health = { ok: true }
      if (next.version === this.#state.version) return
      this.#state = next
      this.#emit()
    } catch (err) {
      this.#health = {
        ok: false,
        detail: `${(err as Error).message}; serving version ${this.#state.version}`,
      }
    }
  }

  /**
   * Writes the whole state beside the file, then renames it over: the file is
   * the old state or the new one, never half of either. A write that fails (the
   * folder full or read-only) leaves nothing behind and throws StoreUnavailable.
   */
  #persist(t: Transition): void {
    const raw = `${JSON.stringify(t.state, null, 2)}\n`
    const tmp = `${this.#file}.${process.pid}.tmp`
    try {
      const fd = openSync(tmp, 'w', 0o644)
      try {
        writeSync(fd, raw)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, this.#file)
    } catch (err) {
      removeQuietly(tmp)
      throw new StoreUnavailable(
        `cannot write the rollout state ${this.#file} (${(err as Error).message}); it stays at version ${this.#state.version}: free space in ${dirname(this.#file)} or make it writable`,
      )
    }
    this.#raw = raw
    this.#health = { ok: true }
    this.#state = t.state
    if (t.entries.length === 0) return
    try {
      appendFileSync(this.#historyFile, t.entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
      this.#historyGap = undefined
    } catch (err) {
      // The change is made; only its record is missing, and /readyz says so until one is written again.
      this.#historyGap = `rollout history ${this.#historyFile} not written (${(err as Error).message}): the change to version ${t.state.version} is not in it`
    }
  }

  #emit(): void {
    for (const l of this.#listeners) l(this.#state)
  }
}
