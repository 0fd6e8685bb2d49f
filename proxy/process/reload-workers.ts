// A reload across the workers: the config is validated here first, then every
// ready worker is asked to build it beside what it serves and swap it in. The
// first refusal, or a worker that gives no answer in time, is the answer.

import { type Config, loadConfig } from '../config/config.ts'
import { loadCertificates } from '../tls/certificates.ts'
import { READY_TIMEOUT_MS, type WorkerState } from './generations.ts'
import type { WorkerRequests } from './worker-requests.ts'

export type ReloadResult = { ok: true; next: Config } | { ok: false; error: string; why: string }

export async function reloadWorkers(
  file: string,
  live: readonly WorkerState[],
  requests: WorkerRequests,
): Promise<ReloadResult> {
  let next: Config
  try {
    next = loadConfig(file)
    // Read here too, so a bad certificate is named once, not by every worker.
    if (next.tls) loadCertificates(next.tls)
  } catch (err) {
    return { ok: false, error: (err as Error).message, why: 'the config does not validate' }
  }
  const replies = await requests.askEach(
    live.map((w) => w.worker),
    { type: 'reload' },
    READY_TIMEOUT_MS,
  )
  const refusals = replies.flatMap((r, i) => {
    if (r === undefined)
      return `worker ${live[i].worker.id} gave no answer to the reload (it exited, or took over ${READY_TIMEOUT_MS / 1000} s)`
    return r.ok ? [] : (r.error ?? 'unknown')
  })
  if (refusals.length > 0) return { ok: false, error: refusals[0], why: 'a worker refused it' }
  return { ok: true, next }
}
