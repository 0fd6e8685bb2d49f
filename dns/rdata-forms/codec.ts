// The contract of a record type whose presentation form is more than a list of
// fields (LOC, APL, WKS, SVCB/HTTPS, ...): one codec per type, used by rdata.ts.

import type { Token } from '../rdata.ts'

export interface RdataCodec {
  /**
   * A record's data tokens (zone-file form) to uncompressed wire form. Throws
   * `rdataError(type, token, why)` naming the token at fault and what was expected.
   */
  fromText(tokens: readonly Token[], origin: Buffer): Buffer
  /**
   * Wire form at msg[start..end) to presentation text as BIND 9.18 prints it
   * (`named-compilezone -s full`); undefined when the data is not valid for the type.
   */
  toText(msg: Uint8Array, start: number, end: number): string | undefined
}
