// The trustedProxies and proxyProtocol keys as loadConfig reads them: blocks
// parsed once and given to both sides, a bad block named with its key.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from './config.ts'

const dir = mkdtempSync(join(tmpdir(), 'cutover-trusted-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function load(yaml: string) {
  const file = join(dir, `config-${++n}.yaml`)
  writeFileSync(file, yaml)
  return loadConfig(file)
}

const SIDES = `
dns:
  listen: 127.0.0.1:5300
  proxyProtocol: true
  legacy: { servers: [127.0.0.1:5301] }
http:
  listen: 127.0.0.1:8080
  legacy: http://127.0.0.1:8081
  doh: false
`

describe('trustedProxies', () => {
  it('is empty by default, and the PROXY protocol off', () => {
    const c = load('http: { listen: 127.0.0.1:8080, legacy: "http://127.0.0.1:8081", doh: false }')
    expect(c.trustedProxies).toEqual([])
    expect(c.http?.trustedProxies).toEqual([])
    expect(c.http?.proxyProtocol).toBeUndefined()
  })

  it('gives its blocks, parsed, to both sides', () => {
    const c = load(`trustedProxies: [10.0.0.0/8, "2001:db8::/32", 192.0.2.7]\n${SIDES}`)
    expect(c.dns?.proxyProtocol).toBe(true)
    for (const side of [c.dns?.trustedProxies, c.http?.trustedProxies])
      expect(side?.map((b) => b.prefix)).toEqual([8, 32, 32])
  })

  it('names a block that does not parse, with its key', () => {
    expect(() => load(`trustedProxies: [10.0.0.0/8, 10.0.0.0/33]\n${SIDES}`)).toThrow(
      /trustedProxies\.1: expected an address or CIDR block/,
    )
  })
})
