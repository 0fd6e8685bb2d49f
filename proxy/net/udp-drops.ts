// Queries the kernel dropped because a listening UDP socket's receive buffer
// was full: under overload the buffer is the queue (dns.udp.receiveBuffer), and
// what does not fit never reaches a worker to be counted there. The kernel
// counts them per socket, in the last column of /proc/net/udp and udp6; the
// process that owns the listening sockets reads them at each scrape.

import { readFileSync, readlinkSync } from 'node:fs'
import { Counter, type Registry } from 'prom-client'
import type { ListenSocket } from './listen-sockets.ts'

/** Drops by socket inode, from the text of /proc/net/udp or udp6. */
export function dropsByInode(table: string): Map<string, number> {
  const drops = new Map<string, number>()
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (fields.length >= 13) drops.set(fields[9], Number(fields[12]))
  }
  return drops
}

function inodeOf(fd: number): string | undefined {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1]
  } catch {
    return undefined
  }
}

function readTable(name: string): string {
  try {
    return readFileSync(`/proc/net/${name}`, 'utf8')
  } catch {
    return '' // not Linux, or no IPv6
  }
}

/**
 * cutover_dns_udp_receive_drops_total, for the UDP sockets among `sockets()`:
 * the kernel's own count, so it carries on across `cutover upgrade` (the same
 * sockets) and starts again with new ones, as a restarted process's does.
 */
export function registerUdpDrops(registry: Registry, sockets: () => readonly ListenSocket[]): void {
  new Counter({
    name: 'cutover_dns_udp_receive_drops_total',
    help: 'DNS queries over UDP the kernel dropped because the receive buffer was full (dns.udp.receiveBuffer)',
    registers: [registry],
    collect() {
      const udp = sockets().filter((s) => s.kind === 'udp')
      const drops = new Map([...dropsByInode(readTable('udp')), ...dropsByInode(readTable('udp6'))])
      let total = 0
      for (const s of udp) total += drops.get(inodeOf(s.handle.fd) ?? '') ?? 0
      this.reset()
      this.inc(total)
    },
  })
}
