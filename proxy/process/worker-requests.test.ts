// Requests to a worker matched by id, with a fake worker in place of a process.

import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { WorkerRequest } from './ipc.ts'
import { type Peer, workerRequests } from './worker-requests.ts'

function fakeWorker() {
  const sent: WorkerRequest[] = []
  const events = new EventEmitter()
  let connected = true
  const peer: Peer = {
    isConnected: () => connected,
    send(m) {
      sent.push(m)
      return true
    },
    once: (event, listener) => events.once(event, listener),
    off: (event, listener) => events.off(event, listener),
  }
  return {
    peer,
    sent,
    exit() {
      connected = false
      events.emit('exit')
    },
  }
}

/** The reply of the one worker asked. */
async function one<T>(replies: Promise<T[]>): Promise<T> {
  return (await replies)[0]
}

afterEach(() => {
  vi.useRealTimers()
})

describe('worker requests', () => {
  it('gives each request the reply carrying its id, whatever the order of the replies', async () => {
    const requests = workerRequests()
    const w = fakeWorker()
    const first = one(requests.askEach([w.peer], { type: 'reload' }, 1000))
    const second = one(requests.askEach([w.peer], { type: 'reload' }, 1000))
    const [a, b] = w.sent
    expect(a.id).not.toBe(b.id)
    requests.answered({ type: 'reloaded', id: b.id, ok: false, error: 'second' })
    requests.answered({ type: 'reloaded', id: a.id, ok: true })
    expect(await first).toEqual({ type: 'reloaded', id: a.id, ok: true })
    expect(await second).toEqual({ type: 'reloaded', id: b.id, ok: false, error: 'second' })
  })

  it('answers for each worker asked, in their order, undefined for one that exits', async () => {
    const requests = workerRequests()
    const [a, b, c] = [fakeWorker(), fakeWorker(), fakeWorker()]
    const asked = requests.askEach([a.peer, b.peer, c.peer], { type: 'reload' }, 60_000)
    requests.answered({ type: 'reloaded', id: c.sent[0].id, ok: false, error: 'c' })
    b.exit()
    requests.answered({ type: 'reloaded', id: a.sent[0].id, ok: true })
    expect(await asked).toEqual([
      { type: 'reloaded', id: a.sent[0].id, ok: true },
      undefined,
      { type: 'reloaded', id: c.sent[0].id, ok: false, error: 'c' },
    ])
  })

  it('gives up after the bound, and drops the reply that comes too late', async () => {
    vi.useFakeTimers()
    const requests = workerRequests()
    const w = fakeWorker()
    const late = one(requests.askEach([w.peer], { type: 'metrics' }, 2000))
    vi.advanceTimersByTime(2000)
    expect(await late).toBeUndefined()
    const next = one(requests.askEach([w.peer], { type: 'metrics' }, 2000))
    requests.answered({ type: 'metrics', id: w.sent[0].id, metrics: 'late' })
    requests.answered({ type: 'metrics', id: w.sent[1].id, metrics: 'on time' })
    expect(await next).toMatchObject({ metrics: 'on time' })
  })

  it('ends the wait at once when the worker exits, or cannot be reached', async () => {
    vi.useFakeTimers()
    const requests = workerRequests()
    const w = fakeWorker()
    const asked = one(requests.askEach([w.peer], { type: 'shadow', scope: 's' }, 60_000))
    w.exit()
    expect(await asked).toBeUndefined()
    expect(await one(requests.askEach([w.peer], { type: 'reload' }, 60_000))).toBeUndefined()
    expect(w.sent).toHaveLength(1)
  })

  it('takes a reply of another kind under the same id for no answer', async () => {
    vi.useFakeTimers()
    const requests = workerRequests()
    const w = fakeWorker()
    const asked = one(requests.askEach([w.peer], { type: 'reload' }, 1000))
    requests.answered({ type: 'metrics', id: w.sent[0].id, metrics: [] })
    vi.advanceTimersByTime(1000)
    expect(await asked).toBeUndefined()
  })
})
