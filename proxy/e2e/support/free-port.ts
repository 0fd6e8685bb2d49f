// A loopback port free for both UDP and TCP right now, for servers that cannot
// take port 0 themselves (named, nginx, redis).

import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = createServer()
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
    const port = (tcp.address() as { port: number }).port
    const udp = createSocket('udp4')
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false))
      udp.bind(port, '127.0.0.1', () => resolve(true))
    })
    await new Promise<void>((resolve) => tcp.close(() => resolve()))
    if (udpFree) await new Promise<void>((resolve) => udp.close(() => resolve()))
    else udp.close()
    if (udpFree) return port
  }
  throw new Error('no free loopback port found for UDP and TCP in 20 tries')
}
