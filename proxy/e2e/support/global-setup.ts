// vitest global setup: the real servers the end-to-end tests need are installed
// once, before any test starts.

import { ensureTools } from './tools.ts'

export default function setup(): void {
  ensureTools()
}
