import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type ListenSockets, listenSockets, socketAt } from './listen-sockets.ts'

const tables: ListenSockets[] = []
afterEach(() => {
  for (const t of tables.splice(0)) t.close()
})

function table(): ListenSockets {
  const t = listenSockets()
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

  it('binds the missing half of a DNS pair on the port of the half it was given', () => {
    const from = table()
    const given = from.open('tcp', 'http', any)
    const t = table()
    t.adopt({ ...given, role: 'dns' })
    expect(t.open('udp', 'dns', any).port).toBe(given.port)
  })
})
