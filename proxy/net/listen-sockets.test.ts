import { connect, createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type ListenRole, type ListenSockets, listenSockets, socketAt } from './listen-sockets.ts'

const tables: ListenSockets[] = []
const servers: Server[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
  for (const t of tables.splice(0)) t.close()
})

function table(reusePort: ListenRole[] = []): ListenSockets {
  const t = listenSockets(new Set(reusePort))
  tables.push(t)
  return t
}

const any = { host: '127.0.0.1', port: 0 }

describe('listenSockets', () => {
  it('binds a DNS role as UDP and TCP on one port, once, whichever is asked first', () => {
    const t = table()
    const tcp = t.open('tcp', 'dns', any)
    const udp = t.open('udp', 'dns', any)
    expect(tcp.port).toBeGreaterThan(0)
    expect(udp.port).toBe(tcp.port)
    expect(t.open('tcp', 'dns', any)).toBe(tcp)
    expect(t.all()).toHaveLength(2)
  })

  it('gives each role its own socket, even on port 0 at one address', () => {
    const t = table()
    const http = t.open('tcp', 'http', any)
    const https = t.open('tcp', 'https', any)
    expect(https.port).not.toBe(http.port)
    expect(socketAt(http.handle)).toEqual({ host: '127.0.0.1', port: http.port })
  })

  it('says what holds a port, and what to do', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      expect(() => table().open('tcp', 'http', { host: '127.0.0.1', port })).toThrow(
        `cannot listen on 127.0.0.1:${port} (http, tcp): EADDRINUSE: another process listens there`,
      )
      expect(() => table().open('tcp', 'admin', { host: '192.0.2.1', port: 9 })).toThrow(
        'EADDRNOTAVAIL: no interface of this machine has that address',
      )
    } finally {
      taken.close()
    }
  })

  it('closes a removed socket and forgets it: the next open binds its address again', () => {
    const t = table(['http'])
    const first = t.open('tcp', 'http', any)
    const slot = t.slot('http', any, 1)
    t.remove(slot)
    t.remove(first)
    expect(t.all()).toEqual([])
    expect([first.handle.fd, slot.handle.fd]).toEqual([-1, -1])
    const again = t.open('tcp', 'http', any)
    expect(again).not.toBe(first)
    expect(again.handle.fd).toBeGreaterThan(0)
  })

  it('binds the missing half of a DNS pair on the port of the half it was given', () => {
    const from = table()
    const given = from.open('tcp', 'http', any)
    const t = table()
    t.adopt({ ...given, role: 'dns' })
    expect(t.open('udp', 'dns', any).port).toBe(given.port)
  })

  it('splits a reusePort role into sockets per worker slot on one port, and the kernel spreads connections over them', async () => {
    const t = table(['http'])
    const first = t.slot('http', any, 0)
    const second = t.slot('http', any, 1)
    expect(first).toBe(t.open('tcp', 'http', any))
    expect(second.port).toBe(first.port)
    expect(second.handle).not.toBe(first.handle)
    expect(t.slot('http', any, 1)).toBe(second)
    const accepted = [0, 0]
    const serving = [first, second].map((s, i) => {
      const server: Server = createServer((socket) => {
        accepted[i]++
        socket.end()
      })
      server.listen(s.handle as never)
      return server
    })
    try {
      for (let n = 0; n < 40; n++)
        await new Promise<void>((resolve, reject) => {
          const c = connect(first.port, '127.0.0.1')
          c.on('error', reject)
          c.on('close', () => resolve())
          c.resume()
        })
      expect(accepted[0] + accepted[1]).toBe(40)
      expect(Math.min(...accepted)).toBeGreaterThan(0)
    } finally {
      for (const server of serving) server.close()
    }
  })

  // Binds conflict only with a socket that listens (libuv sets SO_REUSEADDR), as a running proxy's do.
  const listening = (handle: unknown) => {
    const server = createServer()
    server.listen(handle as never)
    servers.push(server)
  }

  it('refuses a reusePort role a port another holds, even with SO_REUSEPORT', () => {
    const held = table(['http']).slot('http', any, 1)
    listening(held.handle)
    const at = { host: '127.0.0.1', port: held.port }
    expect(() => table(['http']).open('tcp', 'http', at)).toThrow('EADDRINUSE')
    expect(() => table().open('tcp', 'http', at)).toThrow('EADDRINUSE')
  })

  it('cannot split a socket bound without SO_REUSEPORT (one systemd passed)', () => {
    const t = table(['http'])
    const passed = table().open('tcp', 'http', any)
    listening(passed.handle)
    t.adopt(passed)
    expect(() => t.slot('http', any, 1)).toThrow('EADDRINUSE')
  })
})
