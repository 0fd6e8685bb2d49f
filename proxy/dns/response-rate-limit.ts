// Response rate limiting for the new path's UDP answers, with BIND's RRL
// semantics (`rate-limit`): a spoofed source cannot turn an authoritative
// answer into an amplifier. Responses are counted in accounts by client
// network (/24, /56) and what they say (the name and type answered; for
// NXDOMAIN, referrals and errors, the zone, so random names share one
// account); each account earns `responsesPerSecond` a second and remembers a
// debt of at most `window` seconds. Over the rate, a response is dropped, or
// every `slip`-th one sent truncated (TC=1, no records) so that a real client
// asks again over TCP, which no spoofer can. TCP is never limited; `exempt`
// networks never are.

import { Flag, HEADER_LENGTH, Rcode } from '../../dns/constants.ts'
import { addressInto } from '../../dns/ip.ts'
import { wireToText } from '../../dns/name.ts'
import { writeRcodeReply } from '../../dns/reply.ts'
import { type Cidr, cidrContains } from '../../modules/access/cidr.ts'

export interface RateLimitSettings {
  /** Responses a second per account; 0: off. */
  responsesPerSecond: number
  /** Seconds of debt an account remembers (BIND's `window`, 15). */
  window: number
  /** Every slip-th limited response goes out truncated; 0: all dropped (BIND's `slip`, 2). */
  slip: number
  ipv4PrefixLength: number
  ipv6PrefixLength: number
  /** Networks never limited (resolvers one trusts, monitoring). */
  exempt: readonly Cidr[]
  /** Accounts kept at most; the least recently used go first. */
  maxAccounts: number
}

export type RateAction = 'send' | 'slip' | 'drop'

interface Account {
  balance: number
  /** Seconds, when the balance was last brought up to date. */
  at: number
  limited: number
}

/** What a response says, as an account tells responses apart. */
function kindOf(response: Uint8Array): string {
  const rcode = response[3] & 0xf
  if (rcode === Rcode.NXDOMAIN) return 'nxdomain'
  if (rcode !== Rcode.NOERROR) return 'error'
  const answers = (response[6] << 8) | response[7]
  if (answers > 0) return 'answer'
  // Not authoritative and nothing answered: a referral.
  return (response[2] & (Flag.AA >> 8)) === 0 ? 'referral' : 'nodata'
}

export class ResponseRateLimiter {
  readonly #s: RateLimitSettings
  readonly #accounts = new Map<string, Account>()
  readonly #bytes = new Uint8Array(16)

  constructor(settings: RateLimitSettings) {
    this.#s = settings
  }

  /**
   * What to do with the UDP `response` to `query` from `client`, in the zone
   * `zone`; `now` in seconds. Allocates an account key only when on.
   */
  check(
    client: string,
    zone: string,
    query: Buffer,
    response: Uint8Array,
    now: number,
  ): RateAction {
    const s = this.#s
    const network = this.#network(client)
    if (network === undefined) return 'send'
    const kind = kindOf(response)
    const what =
      kind === 'answer' || kind === 'nodata'
        ? `${wireToText(query, HEADER_LENGTH).toLowerCase()}/${query.readUInt16BE(questionTypeAt(query))}`
        : zone
    const key = `${network}|${kind}|${what}`
    let account = this.#accounts.get(key)
    if (account === undefined) {
      account = { balance: s.responsesPerSecond, at: now, limited: 0 }
      if (this.#accounts.size >= s.maxAccounts) {
        const oldest = this.#accounts.keys().next().value
        if (oldest !== undefined) this.#accounts.delete(oldest)
      }
    } else this.#accounts.delete(key)
    // Most recently used last: the map's order is its eviction order.
    this.#accounts.set(key, account)
    const rate = s.responsesPerSecond
    account.balance = Math.min(rate, account.balance + (now - account.at) * rate) - 1
    account.at = now
    if (account.balance >= 0) {
      account.limited = 0
      return 'send'
    }
    account.balance = Math.max(account.balance, -s.window * rate)
    account.limited++
    return s.slip > 0 && account.limited % s.slip === 0 ? 'slip' : 'drop'
  }

  /** The client's network as a key; undefined when exempt (or not an address). */
  #network(client: string): string | undefined {
    const length = addressInto(client, this.#bytes)
    if (length === 0) return undefined
    const addr = length === 4 ? this.#bytes.subarray(0, 4) : this.#bytes
    for (const block of this.#s.exempt) if (cidrContains(block, addr)) return undefined
    const bits = length === 4 ? this.#s.ipv4PrefixLength : this.#s.ipv6PrefixLength
    let key = ''
    for (let i = 0; i < length; i++) {
      const keep = Math.max(0, Math.min(8, bits - i * 8))
      key += `${addr[i] & (0xff << (8 - keep))}.`
    }
    return key
  }
}

/** Where the question's type is in `query` (after its uncompressed name). */
function questionTypeAt(query: Uint8Array): number {
  let at = HEADER_LENGTH
  while (query[at] !== 0) at += query[at] + 1
  return at + 1
}

/** The truncated reply a slipped response becomes: the question, TC set, nothing else. */
export function writeSlip(query: Buffer, out: Buffer): number {
  const length = writeRcodeReply(query, out, Rcode.NOERROR, questionTypeAt(query) + 4)
  out[2] |= Flag.TC >> 8
  return length
}
