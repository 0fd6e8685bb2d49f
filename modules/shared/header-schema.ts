// The header names and values a rule may write, checked when the config is
// read: what Node would refuse to send must not reach a response head.

import { z } from 'zod'
import { HEADER_NAME } from '../../common/header-list.ts'

export const headerNameSchema = z.string().regex(HEADER_NAME, 'not a valid header name')

/** A field value as RFC 9110 allows it and Node sends it: tab, visible ASCII, obs-text. */
export const headerValueSchema = z
  .string()
  .regex(
    /^[\t\x20-\x7e\x80-\xff]*$/,
    'header values may not contain CR, LF, NUL, other control characters or characters above U+00FF',
  )
