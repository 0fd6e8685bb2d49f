// Vary (RFC 9111 4.1): the request headers a response was chosen by, and the
// values a later request must have to be served that response.

import { type HeaderList, headerAll } from '../../common/header-list.ts'

/** The lowercase field names in comma-separated lines (Vary, Connection); `*` kept as is. */
export function fieldNames(lines: readonly string[]): string[] {
  const names: string[] = []
  for (const line of lines) {
    let start = 0
    for (let i = 0; i <= line.length; i++) {
      if (i < line.length && line.charCodeAt(i) !== 44) continue
      const name = line.slice(start, i).trim().toLowerCase()
      if (name.length > 0 && !names.includes(name)) names.push(name)
      start = i + 1
    }
  }
  return names
}

/** A request field's lines joined as one value (RFC 9110 5.3), undefined when absent. */
function combined(request: HeaderList, name: string): string | undefined {
  const lines = headerAll(request, name)
  return lines.length === 0 ? undefined : lines.length === 1 ? lines[0] : lines.join(', ')
}

/** The request's values of `names`, as stored beside a response. */
export function varyValues(request: HeaderList, names: readonly string[]): (string | undefined)[] {
  return names.map((name) => combined(request, name))
}

/** Whether `request` has the values a stored response was chosen with. */
export function varyMatches(
  request: HeaderList,
  names: readonly string[],
  values: readonly (string | undefined)[],
): boolean {
  for (let i = 0; i < names.length; i++) {
    if (combined(request, names[i]) !== values[i]) return false
  }
  return true
}
