// The WebSocket benchmark's upstream and baseline: a `ws` server echoing every
// message, the same one the end-to-end tests put behind the proxy.
// usage: node ws-echo.ts PORT

import { startEcho } from '../../proxy/e2e/support/ws-echo.ts'

await startEcho(Number(process.argv[2]))
console.log('ready')
process.on('SIGTERM', () => process.exit(0))
