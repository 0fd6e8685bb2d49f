// A loopback port free for both UDP and TCP right now, for servers that cannot
// take port 0 themselves (named, nginx, redis).
//
// Ports come from a block of their own for each test process, below the kernel's
// ephemeral range, never from port 0: a port the kernel handed out and we closed
// could be handed to a test running in parallel before our server bound it, and
// named binds with SO_REUSEPORT, so two of them share a port without an error and
// the kernel splits queries between them (a hung BIND seemed to answer: the
// other test's did). A server killed and started again on its port is safe too.

import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

const FIRST_PORT = 10_000
const BLOCKS = 16
// The Fetch standard's "bad ports" at or above FIRST_PORT: browsers and undici's fetch refuse them.
const FETCH_BAD_PORTS = new Set([10_080])

/** Linux's default start of the ephemeral range; a machine whose range starts lower shares some of our ports with it. */
const EPHEMERAL_LOW = 32_768

function ephemeralLow(): number {
  try {
    return (
      Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]) ||
      EPHEMERAL_LOW
    )
  } catch {
    return EPHEMERAL_LOW
  }
}

const blockSize = Math.floor((Math.max(ephemeralLow(), EPHEMERAL_LOW) - FIRST_PORT) / BLOCKS)
// Vitest numbers its worker processes from 1; a script on its own takes one by its pid.
const block = (Number(process.env.VITEST_POOL_ID ?? process.pid) - 1) % BLOCKS
const blockStart = FIRST_PORT + block * blockSize
// A random start, so a test file after another in the same process does not retry its ports first.
let next = Math.floor(Math.random() * blockSize)

async function freeForBoth(port: number): Promise<boolean> {
  const tcp = createServer()
  const tcpFree = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false))
    tcp.listen(port, '127.0.0.1', () => resolve(true))
  })
  if (!tcpFree) return false
  const udp = createSocket('udp4')
  const udpFree = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false))
    udp.bind(port, '127.0.0.1', () => resolve(true))
  })
  await new Promise<void>((resolve) => tcp.close(() => resolve()))
  if (udpFree) await new Promise<void>((resolve) => udp.close(() => resolve()))
  else udp.close()
  return udpFree
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = blockStart + (next++ % blockSize)
    if (!FETCH_BAD_PORTS.has(port) && (await freeForBoth(port))) return port
  }
  throw new Error(
    `no loopback port free for UDP and TCP in 100 tries from ${blockStart} to ${blockStart + blockSize - 1}`,
  )
}
