// HTTP headers as a flat list [name, value, name, value, ...], the form Node's
// rawHeaders and writeHead use: order, duplicates (several Set-Cookie) and the
// sender's letter case kept. Names compare case-insensitively.

export type HeaderList = string[]

/** A field name as RFC 9110 section 5.1 allows (a token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Whether field name `field` is `name` (lowercase). The length first: most
 * fields differ there, and are not lowercased (a new string) to find it out.
 */
export function isField(field: string, name: string): boolean {
  return field.length === name.length && (field === name || field.toLowerCase() === name)
}

/** The first value of `name`, or undefined. `name` must be lowercase. */
export function headerGet(list: readonly string[], name: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) if (isField(list[i], name)) return list[i + 1]
  return undefined
}

/** Every value of `name`, in order. */
export function headerAll(list: readonly string[], name: string): string[] {
  const out: string[] = []
  for (let i = 0; i < list.length; i += 2) if (isField(list[i], name)) out.push(list[i + 1])
  return out
}

/** Removes every `name`; returns how many were removed. */
export function headerRemove(list: HeaderList, name: string): number {
  let removed = 0
  for (let i = 0; i < list.length; ) {
    if (isField(list[i], name)) {
      list.splice(i, 2)
      removed++
    } else {
      i += 2
    }
  }
  return removed
}

/** Replaces every `name` with one `value`. */
export function headerSet(list: HeaderList, name: string, value: string): void {
  headerRemove(list, name.toLowerCase())
  list.push(name, value)
}

export function headerAdd(list: HeaderList, name: string, value: string): void {
  list.push(name, value)
}
