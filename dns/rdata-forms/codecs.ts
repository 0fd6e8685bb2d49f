// The record types with a codec of their own (codec.ts), by type.

import { Type } from '../constants.ts'
import { a6 } from './a6.ts'
import { amtrelay } from './amtrelay.ts'
import { apl } from './apl.ts'
import { atma } from './atma.ts'
import type { RdataCodec } from './codec.ts'
import { hip } from './hip.ts'
import { ipseckey } from './ipseckey.ts'
import { loc } from './loc.ts'
import { https, svcb } from './svcb.ts'
import { wks } from './wks.ts'

export const CODECS = new Map<number, RdataCodec>([
  [Type.A6, a6],
  [Type.ATMA, atma],
  [Type.APL, apl],
  [Type.LOC, loc],
  [Type.WKS, wks],
  [Type.SVCB, svcb],
  [Type.HTTPS, https],
  [Type.IPSECKEY, ipseckey],
  [Type.HIP, hip],
  [Type.AMTRELAY, amtrelay],
])
