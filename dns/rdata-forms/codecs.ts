// The record types with a codec of their own (codec.ts), by type.

import { Type } from '../constants.ts'
import { a6 } from './a6.ts'
import { atma } from './atma.ts'
import type { RdataCodec } from './codec.ts'

export const CODECS = new Map<number, RdataCodec>([
  [Type.A6, a6],
  [Type.ATMA, atma],
])
