// A client's conditional GET against a stored response (RFC 9110 13.1.2, 13.1.3,
// 13.2.2): If-None-Match by weak comparison, else If-Modified-Since.

import { type HeaderList, headerAll, headerGet } from '../../common/header-list.ts'

/** The entity-tag without its weak prefix: weak comparison compares only this. */
export function opaqueTag(etag: string): string {
  return etag.startsWith('W/') ? etag.slice(2) : etag
}

const COMMA = 44
const QUOTE = 34
const STAR = 42

/** Whether any If-None-Match line lists `opaque` (or `*`). */
function listsTag(lines: readonly string[], opaque: string | undefined): boolean {
  for (const line of lines) {
    let i = 0
    while (i < line.length) {
      const c = line.charCodeAt(i)
      if (c === COMMA || c === 32 || c === 9) {
        i++
        continue
      }
      if (c === STAR) return true
      if (c === 87 && line.charCodeAt(i + 1) === 47) i += 2 // W/
      const start = i
      if (line.charCodeAt(i) === QUOTE) {
        i = line.indexOf('"', i + 1)
        i = i < 0 ? line.length : i + 1
      } else {
        while (i < line.length && line.charCodeAt(i) !== COMMA) i++
      }
      if (opaque !== undefined && line.slice(start, i) === opaque) return true
    }
  }
  return false
}

/** What a stored response offers to compare a conditional request with. */
export interface Validators {
  /** The stored ETag without W/, or undefined. */
  etagOpaque: string | undefined
  /** Last-Modified, or else Date, as ms since the epoch (RFC 9111 4.3.2); NaN if neither. */
  modified: number
}

/**
 * Whether the request's conditions say the client already has this response:
 * If-None-Match when present (If-Modified-Since is then ignored), else
 * If-Modified-Since not before the response's modification time.
 */
export function notModified(request: HeaderList, stored: Validators): boolean {
  const inm = headerAll(request, 'if-none-match')
  if (inm.length > 0) return listsTag(inm, stored.etagOpaque)
  const ims = headerGet(request, 'if-modified-since')
  if (ims === undefined) return false
  const since = Date.parse(ims)
  return since >= stored.modified
}
