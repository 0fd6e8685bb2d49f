// The error for record data that does not parse: names the type, the token at
// fault and what was expected, for zone files and record events alike.

import { CutoverError } from '../../common/cutover-error.ts'
import { typeName } from '../constants.ts'

export function rdataError(type: number, token: string | undefined, why: string): CutoverError {
  const at = token === undefined ? 'end of record' : `'${token}'`
  return new CutoverError('RDATA_INVALID', `${typeName(type)} rdata at ${at}: ${why}`)
}
