// What a DNS engine's unit tests hand it as the client side: every reply kept
// (copied, since the engine reuses its buffers), drops counted.

import type { DnsReplier } from './engine.ts'

export class ReplyCollector implements DnsReplier<number> {
  replies: Buffer[] = []
  drops = 0
  sendReply(_peer: number, buf: Buffer, length: number): void {
    this.replies.push(Buffer.from(buf.subarray(0, length)))
  }
  dropped(): void {
    this.drops++
  }
}
