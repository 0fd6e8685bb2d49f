// The scope list, built once from a config: every zone, site and narrowed scope
// with its starting share, the catch-alls of the sides configured, and marking
// a zone or site unservable reaching its narrowed scopes too.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from './config.ts'
import { markServable, scopeListOf } from './scope-list.ts'

const dir = mkdtempSync(join(tmpdir(), 'cutover-scopes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function config(yaml: string) {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, yaml)
  return loadConfig(file)
}

const BOTH = `
dns:
  listen: 127.0.0.1:5300
  legacy: { servers: [127.0.0.1:5301] }
  zones:
    - { name: example.test, file: a.zone, percent: 25, qtypes: { aaaa: 5 } }
http:
  listen: 127.0.0.1:8080
  legacy: { url: "http://127.0.0.1:8081" }
  sites:
    - { host: www.example.test, origin: "http://127.0.0.1:8082", percent: 50, paths: { /api/: 10 } }
`

describe('scopeListOf', () => {
  it('starts a zone or site with no percent at 0: nothing moves until someone says so', () => {
    const list = scopeListOf(config(BOTH.replace(', percent: 25', '').replace(', percent: 50', '')))
    expect(list.all.get('dns:example.test')?.initialBasisPoints).toBe(0)
    expect(list.all.get('http:www.example.test')?.initialBasisPoints).toBe(0)
    // Narrowed scopes always name theirs.
    expect(list.all.get('dns:example.test/AAAA')?.initialBasisPoints).toBe(500)
  })

  it('makes each scope once, in config order, with the catch-alls after each side', () => {
    const list = scopeListOf(config(BOTH))
    expect([...list.all.keys()]).toEqual([
      'dns:example.test',
      'dns:example.test/AAAA',
      'dns:*',
      'http:www.example.test',
      'http:www.example.test/api/',
      'http:*',
    ])
    expect(list.zones[0].scope).toBe(list.all.get('dns:example.test'))
    expect(list.zones[0].qtypes.get(28)).toBe(list.all.get('dns:example.test/AAAA'))
    expect(list.sites[0].paths[0].scope).toBe(list.all.get('http:www.example.test/api/'))
    expect(list.all.get('dns:example.test')!.initialBasisPoints).toBe(2500)
    expect(list.all.get('http:www.example.test/api/')!.initialBasisPoints).toBe(1000)
    expect(list.all.get('dns:*')!.servable).toBe(false)
    expect(list.all.get('dns:example.test')!.servable).toBe(true)
  })

  it('lists no catch-all for a side the config does not have', () => {
    const dnsOnly = BOTH.slice(0, BOTH.indexOf('http:'))
    expect([...scopeListOf(config(dnsOnly)).all.keys()]).not.toContain('http:*')
  })

  it('marks a zone or a site unservable with its narrowed scopes', () => {
    const list = scopeListOf(config(BOTH))
    markServable(list.zones[0], false)
    markServable(list.sites[0], false)
    for (const id of list.all.keys()) expect(list.all.get(id)!.servable).toBe(false)
    markServable(list.sites[0], true)
    expect(list.all.get('http:www.example.test/api/')!.servable).toBe(true)
  })
})
