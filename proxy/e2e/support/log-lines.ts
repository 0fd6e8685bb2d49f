// The JSON lines an access or query log file holds so far (none before it exists).

import { readFileSync } from 'node:fs'

export function logLines<T>(file: string): T[] {
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  // Every line whole: workers and writes never leave half a line.
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T)
}
