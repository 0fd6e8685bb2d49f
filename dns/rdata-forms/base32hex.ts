// Base 32 with the extended hex alphabet (RFC 4648 section 7), unpadded, as
// NSEC3 writes its next hashed owner names (RFC 5155 section 3.3).

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUV'

export function base32hexDecode(text: string): Buffer | undefined {
  const bytes: number[] = []
  let bits = 0
  let value = 0
  for (const ch of text.toUpperCase()) {
    const digit = ALPHABET.indexOf(ch)
    if (digit < 0) return undefined
    value = (value << 5) | digit
    bits += 5
    if (bits >= 8) {
      bits -= 8
      bytes.push((value >> bits) & 0xff)
    }
  }
  // Leftover bits must be padding zeros of a whole quantum.
  if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) return undefined
  return Buffer.from(bytes)
}

export function base32hexEncode(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += ALPHABET[(value >> bits) & 31]
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}
