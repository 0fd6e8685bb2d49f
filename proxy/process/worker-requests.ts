// Requests to workers and their replies, matched by the request's id. Every
// wait is bounded and ends early when the worker exits: no worker can hang the
// supervisor, and a late reply (its request given up) is dropped.

import type { ReplyTo, WorkerReply, WorkerRequest } from './ipc.ts'
import { replyTypeOf } from './ipc.ts'

/** The part of a cluster worker a request needs. */
export interface Peer {
  isConnected(): boolean
  send(m: WorkerRequest): boolean
  once(event: 'exit', listener: () => void): unknown
  off(event: 'exit', listener: () => void): unknown
}

/** A request as the asker writes it: the id is given when it is sent. */
export type Ask = WithoutId<WorkerRequest>
type WithoutId<R> = R extends unknown ? Omit<R, 'id'> : never

export interface WorkerRequests {
  /**
   * Sends `request` to each of `peers`; resolves with their replies in the
   * same order, undefined for a worker that did not answer within `withinMs`,
   * exited first, or cannot be reached.
   */
  askEach<A extends Ask>(
    peers: readonly Peer[],
    request: A,
    withinMs: number,
  ): Promise<(ReplyTo<A['type']> | undefined)[]>
  /** Hand it every reply a worker sends. */
  answered(m: WorkerReply): void
}

export function workerRequests(): WorkerRequests {
  const pending = new Map<number, { type: WorkerReply['type']; settle(m?: WorkerReply): void }>()
  let nextId = 1
  const ask = <A extends Ask>(peer: Peer, request: A, withinMs: number) => {
    const id = nextId++
    return new Promise<ReplyTo<A['type']> | undefined>((resolve) => {
      const settle = (m?: WorkerReply) => {
        clearTimeout(timer)
        peer.off('exit', gone)
        pending.delete(id)
        resolve(m as ReplyTo<A['type']> | undefined)
      }
      const gone = () => settle()
      const timer = setTimeout(gone, withinMs)
      peer.once('exit', gone)
      pending.set(id, { type: replyTypeOf[request.type], settle })
      if (peer.isConnected()) peer.send({ ...request, id } as WorkerRequest)
      else gone()
    })
  }
  return {
    askEach: (peers, request, withinMs) =>
      Promise.all(peers.map((peer) => ask(peer, request, withinMs))),
    answered(m) {
      const p = pending.get(m.id)
      // A reply of another kind under this id is no answer to it.
      if (p?.type === m.type) p.settle(m)
    },
  }
}
