// Numbers a zone file may write as mnemonics: DNSSEC algorithms (RFC 4034
// appendix A.1 and its registry) and CERT types (RFC 4398 section 2.1).

export const DNSSEC_ALGORITHMS: Readonly<Record<string, number>> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  RSASHA1: 5,
  'DSA-NSEC3-SHA1': 6,
  NSEC3DSA: 6,
  'RSASHA1-NSEC3-SHA1': 7,
  NSEC3RSASHA1: 7,
  RSASHA256: 8,
  RSASHA512: 10,
  'ECC-GOST': 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
  INDIRECT: 252,
  PRIVATEDNS: 253,
  PRIVATEOID: 254,
}

export const CERT_TYPES: Readonly<Record<string, number>> = {
  PKIX: 1,
  SPKI: 2,
  PGP: 3,
  IPKIX: 4,
  ISPKI: 5,
  IPGP: 6,
  ACPKIX: 7,
  IACPKIX: 8,
  URI: 253,
  OID: 254,
}

/** `text` as a number up to `max`, or as a mnemonic of `table` in any case; undefined when neither. */
export function numberOrMnemonic(
  text: string,
  table: Readonly<Record<string, number>>,
  max: number,
): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) <= max ? Number(text) : undefined
  return table[text.toUpperCase()]
}

/** The first mnemonic of `table` for `value` (as BIND prints CERT fields), else the number. */
export function mnemonicOf(value: number, table: Readonly<Record<string, number>>): string {
  for (const [name, code] of Object.entries(table)) if (code === value) return name
  return String(value)
}
