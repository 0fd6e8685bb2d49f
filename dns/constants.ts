// DNS numbers used across the project: record types, classes, rcodes, header bits.

export const Type = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  X25: 19,
  ISDN: 20,
  RT: 21,
  NSAP: 22,
  'NSAP-PTR': 23,
  SIG: 24,
  KEY: 25,
  PX: 26,
  GPOS: 27,
  AAAA: 28,
  LOC: 29,
  NXT: 30,
  EID: 31,
  NIMLOC: 32,
  SRV: 33,
  ATMA: 34,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  A6: 38,
  DNAME: 39,
  SINK: 40,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  NINFO: 56,
  RKEY: 57,
  TALINK: 58,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  NID: 104,
  L32: 105,
  L64: 106,
  LP: 107,
  EUI48: 108,
  EUI64: 109,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  URI: 256,
  CAA: 257,
  AVC: 258,
  DOA: 259,
  AMTRELAY: 260,
  TA: 32768,
  DLV: 32769,
} as const

/** Record types a DNSSEC signer makes: a zone holding them is signed. */
export const DNSSEC_TYPES: ReadonlySet<number> = new Set<number>([
  Type.RRSIG,
  Type.NSEC,
  Type.NSEC3,
  Type.NSEC3PARAM,
  Type.DNSKEY,
])

export const Class = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  BADVERS: 16,
} as const

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const

/** Bits of the 16-bit flags word at offset 2 of the header. */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const

/** EDNS(0) option codes (RFC 6891 registry) that we read. */
export const EdnsOption = { ECS: 8, COOKIE: 10 } as const

export const HEADER_LENGTH = 12
export const MAX_NAME_LENGTH = 255
export const MAX_LABEL_LENGTH = 63
export const MAX_LABELS = 128
/** The largest UDP answer a client without EDNS accepts (RFC 1035 section 4.2.1). */
export const CLASSIC_UDP_LIMIT = 512

/**
 * Both ways between the mnemonics and codes of one table; codes it lacks in the
 * RFC 3597 generic form, `prefix` and the number (`TYPE99`, `CLASS7`).
 */
function mnemonics(table: Record<string, number>, prefix: string) {
  const names = new Map<number, string>(Object.entries(table).map(([k, v]) => [v, k]))
  return {
    name: (code: number): string => names.get(code) ?? `${prefix}${code}`,
    code: (name: string): number | undefined => {
      const upper = name.toUpperCase()
      return table[upper] ?? genericCode(upper, prefix)
    },
  }
}

function genericCode(upper: string, prefix: string): number | undefined {
  if (!upper.startsWith(prefix)) return undefined
  const digits = upper.slice(prefix.length)
  if (!/^\d{1,5}$/.test(digits)) return undefined
  const code = Number(digits)
  return code <= 0xffff ? code : undefined
}

const types = mnemonics(Type, 'TYPE')
const classes = mnemonics(Class, 'CLASS')
const rcodes = mnemonics(Rcode, 'RCODE')

/** Mnemonic for a type code; unknown codes use the RFC 3597 form `TYPEnnn`. */
export const typeName = types.name
/** Type code for a mnemonic or `TYPEnnn`; undefined when it is neither. */
export const typeCode = types.code
export const className = classes.name
export const classCode = classes.code
export const rcodeName = rcodes.name
