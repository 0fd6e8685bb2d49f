// The PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and 2) a
// load balancer puts before a connection's first byte, or before each datagram:
// parsed from the bytes received so far, bounded, never throwing.

import { addressInto, formatIPv4, formatIPv6 } from '../../dns/ip.ts'

/** What the bytes received so far hold. */
export type ProxyHeader =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid' }
  | {
      readonly kind: 'header'
      /** Bytes the header takes; what follows is the connection's own data. */
      readonly length: number
      /** The client's address; undefined for LOCAL or UNKNOWN (the connection speaks for itself: a health check). */
      readonly source: string | undefined
    }

/** The longest version 1 header, CRLF included (the spec's own bound). */
export const V1_MAX = 107
/** The longest version 2 header: 16 bytes, then at most 65535 of addresses and TLVs. */
export const V2_MAX = 16 + 0xffff

const INCOMPLETE: ProxyHeader = { kind: 'incomplete' }
const INVALID: ProxyHeader = { kind: 'invalid' }

const V1_PREFIX = Buffer.from('PROXY ')
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
])

/** The header at the start of `buf`: a version 1 or 2 header, more bytes needed, or not a header. */
export function parseProxyHeader(buf: Uint8Array): ProxyHeader {
  if (buf.length === 0) return INCOMPLETE
  if (buf[0] === V2_SIGNATURE[0]) return parseV2(buf)
  if (buf[0] === V1_PREFIX[0]) return parseV1(buf)
  return INVALID
}

/** True while buf[0..n) agrees with `prefix` for as many bytes as both have. */
function agrees(buf: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(buf.length, prefix.length)
  for (let i = 0; i < n; i++) if (buf[i] !== prefix[i]) return false
  return true
}

function parseV2(buf: Uint8Array): ProxyHeader {
  if (!agrees(buf, V2_SIGNATURE)) return INVALID
  if (buf.length < 16) return INCOMPLETE
  const version = buf[12] >> 4
  const command = buf[12] & 0x0f
  if (version !== 2 || command > 1) return INVALID
  const length = 16 + ((buf[14] << 8) | buf[15])
  if (buf.length < length) return INCOMPLETE
  // LOCAL: the balancer's own connection (a health check); its addresses are not a client's.
  if (command === 0) return { kind: 'header', length, source: undefined }
  const family = buf[13] >> 4
  const transport = buf[13] & 0x0f
  if (transport > 2 || family > 3) return INVALID
  if (family === 1) {
    if (length < 16 + 12) return INVALID
    return { kind: 'header', length, source: formatIPv4(buf, 16) }
  }
  if (family === 2) {
    if (length < 16 + 36) return INVALID
    return { kind: 'header', length, source: ipv6Text(buf, 16) }
  }
  // UNSPEC or UNIX: no IP address to speak of; the spec says to use the connection's own.
  return { kind: 'header', length, source: undefined }
}

/** IPv6 address text; an IPv4-mapped one as its dotted quad, one client whatever the family. */
function ipv6Text(buf: Uint8Array, at: number): string {
  for (let i = 0; i < 10; i++) if (buf[at + i] !== 0) return formatIPv6(buf, at)
  if (buf[at + 10] === 0xff && buf[at + 11] === 0xff) return formatIPv4(buf, at + 12)
  return formatIPv6(buf, at)
}

const scratch = new Uint8Array(16)

function parseV1(buf: Uint8Array): ProxyHeader {
  if (!agrees(buf, V1_PREFIX)) return INVALID
  let end = -1
  const limit = Math.min(buf.length, V1_MAX)
  for (let i = V1_PREFIX.length; i < limit; i++) {
    if (buf[i] === 0x0a) {
      end = i
      break
    }
  }
  if (end < 0) return buf.length >= V1_MAX ? INVALID : INCOMPLETE
  if (buf[end - 1] !== 0x0d) return INVALID
  const line = Buffer.from(buf.buffer, buf.byteOffset, end - 1).toString('latin1')
  const fields = line.split(' ')
  const length = end + 1
  // "PROXY UNKNOWN" may be followed by anything; the connection speaks for itself.
  if (fields[1] === 'UNKNOWN') return { kind: 'header', length, source: undefined }
  if (fields.length !== 6) return INVALID
  const family = fields[1] === 'TCP4' ? 4 : fields[1] === 'TCP6' ? 16 : 0
  if (family === 0) return INVALID
  if (addressInto(fields[2], scratch) === 0 || addressInto(fields[3], scratch) === 0) return INVALID
  if (fields[2].indexOf(':') < 0 !== (family === 4)) return INVALID
  if (fields[3].indexOf(':') < 0 !== (family === 4)) return INVALID
  if (!isPort(fields[4]) || !isPort(fields[5])) return INVALID
  return { kind: 'header', length, source: fields[2] }
}

/** A decimal port, 0 to 65535, without a leading zero (as the spec writes them). */
function isPort(text: string): boolean {
  if (text.length === 0 || text.length > 5 || (text.length > 1 && text.charCodeAt(0) === 0x30))
    return false
  let v = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 0x30
    if (c < 0 || c > 9) return false
    v = v * 10 + c
  }
  return v <= 0xffff
}
