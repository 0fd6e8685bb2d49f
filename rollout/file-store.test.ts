// The file store: created from the config's percentages, corrupt files refused
// at start and survived at run time, atomic writes with history, conditional
// updates, and changes seen by a second instance on the same file.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FileStore } from './file-store.ts'
import {
  type HistoryEntry,
  type RolloutState,
  setPercent,
  startPlan,
  stateSchema,
  withInitialScopes,
} from './state.ts'
import { StoreUnavailable, VersionConflict } from './store.ts'

const A = 'dns:example.test'
const B = 'http:shop.example.test/api/'

let dir: string
let file: string
let history: string
const open: FileStore[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-file-store-'))
  file = join(dir, 'state', 'rollout.json')
  history = join(dir, 'state', 'rollout-history.jsonl')
})

afterEach(async () => {
  for (const s of open.splice(0)) await s.close()
  rmSync(dir, { recursive: true, force: true })
})

function store(
  initial: ReadonlyMap<string, number> = new Map([
    [A, 2500],
    [B, 0],
  ]),
  onCreate: () => void = () => {},
): FileStore {
  const s = new FileStore(file, (st) => withInitialScopes(st, initial, 1000), onCreate)
  open.push(s)
  return s
}

function onDisk(): RolloutState {
  return stateSchema.parse(JSON.parse(readFileSync(file, 'utf8')))
}

function historyLines(): HistoryEntry[] {
  if (!existsSync(history)) return []
  return readFileSync(history, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as HistoryEntry)
}

const noChange = (s: RolloutState) => ({ state: s, entries: [] })

describe('starting', () => {
  it('creates a missing file (and its folder) from the initial percentages', () => {
    const onCreate = vi.fn()
    const s = store(undefined, onCreate)
    expect(onCreate).toHaveBeenCalledTimes(1)
    const want = {
      version: 1,
      scopes: {
        [A]: { basisPoints: 2500, updatedAt: 1000, updatedBy: 'config' },
        [B]: { basisPoints: 0, updatedAt: 1000, updatedBy: 'config' },
      },
    }
    expect(s.current()).toEqual(want)
    expect(onDisk()).toEqual(want)
    expect(historyLines().map((e) => [e.scope, e.action, e.to])).toEqual([
      [A, 'init', 2500],
      [B, 'init', 0],
    ])
    expect(s.health()).toEqual({ ok: true })
  })

  it('creates the file even when there is no scope to add', () => {
    const onCreate = vi.fn()
    const s = store(new Map(), onCreate)
    expect(onCreate).toHaveBeenCalledTimes(1)
    expect(s.current()).toEqual({ version: 0, scopes: {} })
    expect(onDisk()).toEqual({ version: 0, scopes: {} })
  })

  it('reads an existing file, adding only the scopes it lacks', async () => {
    const first = store()
    await first.update((s) => setPercent(s, A, 5000, 'admin', 'x', 2000))
    const onCreate = vi.fn()
    const second = store(
      new Map([
        [A, 0],
        [B, 0],
        ['dns:new.test', 100],
      ]),
      onCreate,
    )
    expect(onCreate).not.toHaveBeenCalled()
    expect(second.current().scopes[A].basisPoints).toBe(5000)
    expect(second.current().scopes['dns:new.test'].basisPoints).toBe(100)
    expect(second.current().version).toBe(3)
    expect(onDisk()).toEqual(second.current())
    expect(historyLines().map((e) => e.action)).toEqual(['init', 'init', 'set', 'init'])
  })

  it('leaves the file alone when nothing is missing', async () => {
    store()
    const before = readFileSync(file, 'utf8')
    const mtime = statSync(file).mtimeMs
    const lines = historyLines().length
    const again = store()
    expect(again.current()).toEqual(onDisk())
    expect(readFileSync(file, 'utf8')).toBe(before)
    expect(statSync(file).mtimeMs).toBe(mtime)
    expect(historyLines().length).toBe(lines)
  })

  it('refuses a file that is not JSON, naming it', () => {
    store()
    writeFileSync(file, '{ "version": 1, ')
    let err: unknown
    try {
      store()
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'CUTOVER_ERR_CONFIG_INVALID' })
    expect((err as Error).message).toContain(`rollout state ${file} is not valid JSON`)
    expect((err as Error).message).toContain('move it away')
    // Nothing was overwritten.
    expect(readFileSync(file, 'utf8')).toBe('{ "version": 1, ')
  })

  it('refuses a file that is JSON but not a rollout state, naming it and the field', () => {
    for (const [content, field] of [
      ['[]', 'expected object, received array'],
      ['{"version": -1, "scopes": {}}', 'version'],
      ['{"version": 1}', 'scopes'],
      [
        `{"version": 1, "scopes": {"${A}": {"basisPoints": 10001, "updatedAt": 1, "updatedBy": "x"}}}`,
        `scopes.${A}.basisPoints`,
      ],
      [`{"version": 1, "scopes": {"${A}": {"basisPoints": 1}}}`, `scopes.${A}.updatedAt`],
    ]) {
      rmSync(join(dir, 'state'), { recursive: true, force: true })
      store()
      writeFileSync(file, content)
      expect(() => store(), content).toThrow(`rollout state ${file} is not a rollout state (`)
      expect(() => store(), content).toThrow(field)
    }
  })
})

describe('a file broken at run time', () => {
  it('keeps the last good state, and health() says why', async () => {
    const s = store()
    const good = s.current()
    writeFileSync(file, 'not json')
    await s.update(noChange)
    expect(s.current()).toEqual(good)
    const h = s.health()
    expect(h.ok).toBe(false)
    expect(h.detail).toContain(`rollout state ${file} is not valid JSON`)
    expect(h.detail).toContain('serving version 1')
  })

  it('says when the file cannot be read at all', async () => {
    const s = store()
    rmSync(file)
    await s.update(noChange)
    expect(s.health()).toEqual({
      ok: false,
      detail: `rollout state ${file} cannot be read; serving version 1`,
    })
    expect(s.current().version).toBe(1)
  })

  it('is healthy again when the file is replaced by a newer valid state', async () => {
    const s = store()
    const good = readFileSync(file, 'utf8')
    writeFileSync(file, '{}')
    await s.update(noChange)
    expect(s.health().ok).toBe(false)
    const next = JSON.parse(good) as RolloutState
    next.version = 5
    next.scopes[A].basisPoints = 42
    writeFileSync(file, JSON.stringify(next))
    await s.update(noChange)
    expect(s.health()).toEqual({ ok: true })
    expect(s.current().scopes[A].basisPoints).toBe(42)
  })

  it('is healthy again when the file is put back as it was', async () => {
    const s = store()
    const good = readFileSync(file, 'utf8')
    writeFileSync(file, 'garbage')
    await s.update(noChange)
    expect(s.health().ok).toBe(false)
    // The operator restores the file from a backup: byte for byte what we last wrote.
    writeFileSync(file, good)
    await s.update(noChange)
    expect(s.health()).toEqual({ ok: true })
  })

  it('is healthy again once its own update has rewritten the broken file', async () => {
    const s = store()
    writeFileSync(file, 'garbage')
    const after = await s.update((st) => setPercent(st, A, 100, 'admin', 'repair', 3000))
    expect(onDisk()).toEqual(after)
    expect(s.health()).toEqual({ ok: true })
  })
})

describe('update', () => {
  it('writes atomically, leaving no temporary file, and appends the history', async () => {
    const s = store()
    const lines = historyLines().length
    const after = await s.update((st) => setPercent(st, A, 100, 'admin', 'less', 2000))
    expect(after.version).toBe(2)
    expect(after.scopes[A].basisPoints).toBe(100)
    expect(s.current()).toBe(after)
    expect(onDisk()).toEqual(after)
    await s.update((st) => startPlan(st, B, [100, 500], 1000, 'admin', 3000))
    expect(readdirSync(join(dir, 'state')).sort()).toEqual([
      'rollout-history.jsonl',
      'rollout.json',
    ])
    const added = historyLines().slice(lines)
    expect(added).toEqual([
      { at: 2000, scope: A, from: 2500, to: 100, by: 'admin', action: 'set', why: 'less' },
      {
        at: 3000,
        scope: B,
        from: 0,
        to: 100,
        by: 'admin',
        action: 'plan',
        why: 'plan 1,5 with 1 s bake',
      },
    ])
  })

  it('writes nothing for a change that changes nothing', async () => {
    const s = store()
    const before = readFileSync(file, 'utf8')
    const lines = historyLines().length
    const state = s.current()
    expect(await s.update(noChange)).toBe(state)
    expect(readFileSync(file, 'utf8')).toBe(before)
    expect(historyLines().length).toBe(lines)
  })

  it('throws VersionConflict for a stale expected version, writing nothing', async () => {
    const s = store()
    await s.update((st) => setPercent(st, A, 100, 'admin', 'x', 2000), 1)
    const before = readFileSync(file, 'utf8')
    await expect(s.update((st) => setPercent(st, A, 200, 'admin', 'y', 3000), 1)).rejects.toThrow(
      VersionConflict,
    )
    await expect(s.update((st) => setPercent(st, A, 200, 'admin', 'y', 3000), 1)).rejects.toThrow(
      'the rollout state moved on (version 2, you had 1); look again and retry',
    )
    expect(readFileSync(file, 'utf8')).toBe(before)
    expect(s.current().scopes[A].basisPoints).toBe(100)
  })

  it('a write that fails (the folder full or unwritable) changes nothing, leaves nothing behind, and says why', async () => {
    const s = store()
    const before = readFileSync(file, 'utf8')
    const lines = historyLines().length
    // Where the new state would be written first, something that cannot be written to.
    const tmp = `${file}.${process.pid}.tmp`
    mkdirSync(tmp)
    const change = (st: RolloutState) => setPercent(st, A, 100, 'admin', 'x', 2000)
    await expect(s.update(change)).rejects.toThrow(StoreUnavailable)
    await expect(s.update(change)).rejects.toThrow(
      `cannot write the rollout state ${file} (EISDIR: illegal operation on a directory`,
    )
    await expect(s.update(change)).rejects.toThrow('it stays at version 1: free space in')
    expect(readFileSync(file, 'utf8')).toBe(before)
    expect(s.current().version).toBe(1)
    expect(historyLines().length).toBe(lines)
    rmSync(tmp, { recursive: true })
    await s.update(change)
    expect(onDisk().scopes[A].basisPoints).toBe(100)
    expect(readdirSync(join(dir, 'state')).sort()).toEqual([
      'rollout-history.jsonl',
      'rollout.json',
    ])
  })

  it('a history that cannot be appended keeps the change and makes the store unhealthy until one is', async () => {
    const s = store()
    rmSync(history, { force: true })
    mkdirSync(history)
    await s.update((st) => setPercent(st, A, 100, 'admin', 'x', 2000))
    expect(onDisk().scopes[A].basisPoints).toBe(100)
    expect(s.health()).toEqual({
      ok: false,
      detail: expect.stringContaining(`rollout history ${history} not written (EISDIR`),
    })
    rmSync(history, { recursive: true })
    await s.update((st) => setPercent(st, A, 200, 'admin', 'y', 3000))
    expect(s.health()).toEqual({ ok: true })
  })

  it('starts from what another instance wrote, so neither change is lost', async () => {
    const one = store()
    const two = store()
    await one.update((st) => setPercent(st, A, 100, 'admin', 'one', 2000))
    await expect(
      two.update((st) => setPercent(st, B, 300, 'admin', 'two', 3000), 1),
    ).rejects.toThrow(VersionConflict)
    const after = await two.update((st) => setPercent(st, B, 300, 'admin', 'two', 3000))
    expect(after.version).toBe(3)
    expect(after.scopes[A].basisPoints).toBe(100)
    expect(after.scopes[B].basisPoints).toBe(300)
    expect(onDisk()).toEqual(after)
  })

  it('tells its own listeners at once, with the new state', async () => {
    const s = store()
    const seen: RolloutState[] = []
    s.onChange((st) => seen.push(st))
    const after = await s.update((st) => setPercent(st, A, 100, 'admin', 'x', 2000))
    expect(seen).toEqual([after])
  })

  it('lets a transition error through, writing nothing', async () => {
    const s = store()
    const before = readFileSync(file, 'utf8')
    await expect(s.update((st) => setPercent(st, 'dns:nope.test', 1, 'a', 'x', 1))).rejects.toThrow(
      "unknown scope 'dns:nope.test'",
    )
    expect(readFileSync(file, 'utf8')).toBe(before)
  })
})

describe('a second instance on the same file', () => {
  it("sees the first one's change through onChange", async () => {
    const one = store()
    const two = store()
    const seen: RolloutState[] = []
    two.onChange((st) => seen.push(st))
    const after = await one.update((st) => setPercent(st, A, 7500, 'admin', 'x', 2000))
    await vi.waitFor(() => expect(seen.at(-1)?.version).toBe(after.version), {
      timeout: 5000,
      interval: 20,
    })
    expect(seen.at(-1)).toEqual(after)
    expect(two.current()).toEqual(after)
    expect(two.health()).toEqual({ ok: true })
  })

  it('notices a file broken by someone else, and keeps serving', async () => {
    const one = store()
    one.onChange(() => {})
    const good = one.current()
    writeFileSync(file, '{"version": "x"}')
    await vi.waitFor(() => expect(one.health().ok).toBe(false), { timeout: 5000, interval: 20 })
    expect(one.health().detail).toContain('is not a rollout state')
    expect(one.current()).toEqual(good)
  })
})

describe('history', () => {
  it('filters by scope and keeps the last entries up to the limit', async () => {
    const s = store()
    for (let i = 1; i <= 5; i++) await s.update((st) => setPercent(st, A, i, 'admin', `${i}`, i))
    const all = await s.history()
    expect(all.map((e) => e.action)).toEqual(['init', 'init', 'set', 'set', 'set', 'set', 'set'])
    expect((await s.history(B)).map((e) => e.scope)).toEqual([B])
    expect((await s.history(A, 2)).map((e) => e.why)).toEqual(['4', '5'])
    expect(await s.history('dns:nope.test')).toEqual([])
  })

  it('is empty before anything was written', async () => {
    const s = store(new Map())
    expect(await s.history()).toEqual([])
  })
})
