// Session ticket keys held by the supervisor, never written to disk: every
// worker of every generation encrypts and decrypts tickets with the same key,
// so a client resumes its session on whichever worker it reaches, and after a
// restart. A new key takes over every `rotation`; Node's TLS takes one key at
// a time, so a ticket made under the previous key gets a full handshake.

import { randomBytes } from 'node:crypto'

/** What Node's setTicketKeys takes: 16 bytes of name, 16 of HMAC secret, 16 of AES key. */
export const TICKET_KEY_BYTES = 48

export interface TicketKeyRing {
  /** The key new tickets are made with. */
  current(): Buffer
  /** Stops rotating. */
  stop(): void
}

/**
 * A ring that starts with `first` (the key of the supervisor this one
 * replaced) or a key it makes, and makes a new one every `rotationMs`, calling `rotated` with it.
 */
export function ticketKeyRing(
  rotationMs: number,
  rotated: (keys: Buffer) => void,
  first: Buffer = randomBytes(TICKET_KEY_BYTES),
): TicketKeyRing {
  let key = first
  const timer = setInterval(() => {
    key = randomBytes(TICKET_KEY_BYTES)
    rotated(key)
  }, rotationMs)
  timer.unref()
  return {
    current: () => key,
    stop: () => clearInterval(timer),
  }
}

/** The env a worker finds its first key in (base64), so its listeners start with it. */
export const TICKET_KEYS_ENV = 'CUTOVER_TICKET_KEYS'

export function ticketKeysFromEnv(): Buffer | undefined {
  const text = process.env[TICKET_KEYS_ENV]
  if (!text) return undefined
  // Read once; no child of the worker needs it.
  delete process.env[TICKET_KEYS_ENV]
  const keys = Buffer.from(text, 'base64')
  return keys.length === TICKET_KEY_BYTES ? keys : undefined
}
