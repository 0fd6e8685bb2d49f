// The kernel's count of datagrams dropped on a full receive buffer: read from
// /proc/net/udp text, and exported for the listening UDP sockets only, from a
// real socket whose small buffer overflows while nothing reads it.

import { createSocket, type Socket } from 'node:dgram'
import { existsSync, readFileSync, readlinkSync } from 'node:fs'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { familiesOfRegistry, sampleOf } from '../telemetry/metric-sample.ts'
import type { ListenSocket, RawHandle } from './listen-sockets.ts'
import { dropsByInode, registerUdpDrops } from './udp-drops.ts'

// As Linux writes it: a header (with trailing blanks), one row per socket, a final newline.
const UDP_TABLE = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ',
  '  137: 0100007F:A1B2 00000000:0000 07 00000000:00002200 00:00000000 00000000  1000        0 4242421 2 ffff8f1d2c3e4a00 317',
  ' 1224: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 17001 2 ffff8f1d2c3e4c00 0',
  '',
].join('\n')

const UDP6_TABLE = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  '  889: 00000000000000000000000001000000:14EB 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 5150 2 ffff8f1d2c3e4e00 12',
  '',
].join('\n')

describe('dropsByInode', () => {
  it('maps each row’s inode (10th field) to its drops (13th, last), skipping the header', () => {
    expect(dropsByInode(UDP_TABLE)).toEqual(
      new Map([
        ['4242421', 317],
        ['17001', 0],
      ]),
    )
    expect(dropsByInode(UDP6_TABLE)).toEqual(new Map([['5150', 12]]))
  })

  it('reads nothing from an empty table, a header alone, or no text', () => {
    expect(dropsByInode(`${UDP_TABLE.split('\n')[0]}\n`).size).toBe(0)
    expect(dropsByInode('').size).toBe(0)
  })
})

const SIZE = 500
const SENT = 300

const opened: Socket[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))))
})

/** dgram's libuv handle, reached as Node's internals keep it (see stopReceiving in udp-listener.ts). */
function handleOf(socket: Socket): RawHandle & { recvStop(): number; recvStart(): number } {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol')
  if (!key) throw new Error("no state symbol on the dgram socket: Node's internals changed")
  return (socket as unknown as Record<symbol, { handle: never }>)[key].handle
}

/** A UDP socket on loopback with a 4 KiB receive buffer that nobody reads; its datagrams counted once reading resumes. */
async function stalled(): Promise<{
  socket: Socket
  listen: ListenSocket
  received: () => number
}> {
  const socket = createSocket('udp4')
  opened.push(socket)
  let received = 0
  socket.on('message', () => received++)
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  socket.setRecvBufferSize(4096)
  const handle = handleOf(socket)
  handle.recvStop()
  const port = socket.address().port
  return {
    socket,
    listen: { kind: 'udp', role: 'dns', at: { host: '127.0.0.1', port: 0 }, port, handle },
    received: () => received,
  }
}

/** Sends SENT datagrams of SIZE bytes to `port`, each handed to the kernel before it resolves. */
async function flood(port: number): Promise<void> {
  const sender = createSocket('udp4')
  opened.push(sender)
  const payload = Buffer.alloc(SIZE, 0x61)
  await Promise.all(
    Array.from(
      { length: SENT },
      () =>
        new Promise<void>((resolve, reject) =>
          sender.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
        ),
    ),
  )
}

function inodeOf(socket: Socket): string {
  const link = readlinkSync(`/proc/self/fd/${handleOf(socket).fd}`)
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1]
  if (!inode) throw new Error(`fd is not a socket: ${link}`)
  return inode
}

/** Waits up to 5 s for `check()`; false if it never held. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = performance.now() + 5000
  while (!(await check())) {
    if (performance.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return true
}

describe.skipIf(!existsSync('/proc/net/udp'))('registerUdpDrops', () => {
  it('exports the kernel drops of the listed UDP sockets, and of no other socket', async () => {
    const listed = await stalled()
    const other = await stalled()
    const sockets: ListenSocket[] = []
    const registry = new Registry()
    registerUdpDrops(registry, () => sockets)
    const drops = async () =>
      sampleOf(await familiesOfRegistry(registry), 'cutover_dns_udp_receive_drops_total', {})

    // A socket not listed overflows: the kernel counts its drops, the metric does not.
    await flood(other.listen.port)
    const kernel = dropsByInode(readFileSync('/proc/net/udp', 'utf8'))
    expect(kernel.get(inodeOf(other.socket))).toBeGreaterThan(0)
    sockets.push({ ...other.listen, kind: 'tcp' }, listed.listen)
    expect(await drops()).toBe(0)

    // The listed one overflows: every datagram is either queued or dropped and counted.
    await flood(listed.listen.port)
    const dropped = await drops()
    expect(dropped).toBeGreaterThan(0)
    expect(dropped).toBeLessThan(SENT)
    expect(dropped).toBe(
      dropsByInode(readFileSync('/proc/net/udp', 'utf8')).get(inodeOf(listed.socket)),
    )
    handleOf(listed.socket).recvStart()
    const all = await eventually(() => listed.received() + dropped === SENT)
    expect(all, `${listed.received()} received + ${dropped} dropped of ${SENT}`).toBe(true)
    // The kernel's count, not a sum of scrapes: scraping again reads the same.
    expect(await drops()).toBe(dropped)
  })

  it('reads 0 for a listed UDP socket that dropped nothing', async () => {
    const quiet = await stalled()
    const registry = new Registry()
    registerUdpDrops(registry, () => [quiet.listen])
    expect(
      sampleOf(await familiesOfRegistry(registry), 'cutover_dns_udp_receive_drops_total', {}),
    ).toBe(0)
  })
})
