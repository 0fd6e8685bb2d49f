// vitest global setup: the real servers the end-to-end tests need are installed
// once, before any test starts.

import { STREAM_MODULE } from './nginx.ts'
import { ensureFile, ensureTools } from './tools.ts'

export default function setup(): void {
  ensureTools()
  ensureFile(STREAM_MODULE, 'libnginx-mod-stream')
}
