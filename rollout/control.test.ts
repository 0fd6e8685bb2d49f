// Forced paths and traces: accepted only with a fresh MAC of the admin token
// over the very request; anything tampered with or stale is ignored.

import { describe, expect, it } from 'vitest'
import { buildQuery } from '../dns/message.ts'
import { fqdnWire } from '../dns/name.ts'
import { createQueryView, Parse, type QueryView, readQuery } from '../dns/query-view.ts'
import {
  type Control,
  dnsControl,
  httpControl,
  MAX_SKEW_S,
  signDns,
  signHttp,
  traceText,
} from './control.ts'

const TOKEN = 'a-long-enough-admin-token-0123456789'
const NOW = 1_800_000_000
const CODE = 65430

describe('signHttp and httpControl', () => {
  const request = {
    method: 'GET',
    host: 'shop.example.test',
    target: '/api/cart?x=1',
  }
  const sign = (over: Partial<typeof request> = {}, force = 'new', trace = '1', ts = NOW) => {
    const r = { ...request, ...over }
    return signHttp(TOKEN, ts, r.method, r.host, r.target, force, trace)
  }
  /** httpControl for `request` changed by `over`; force and trace are sent as given, undefined = absent. */
  const check = (
    auth: string | undefined,
    over: Partial<
      typeof request & { force?: string; trace?: string; token: string; now: number }
    > = {},
  ) => {
    const r = { ...request, force: 'new', trace: '1', token: TOKEN, now: NOW, ...over }
    return httpControl(r.token, r.now, r.method, r.host, r.target, r.force, r.trace, auth)
  }

  it('signs as <unix seconds>.<32 hex digits>', () => {
    expect(sign()).toMatch(new RegExp(`^${NOW}\\.[0-9a-f]{32}$`))
    expect(sign()).toBe(sign())
  })

  it('accepts a correct proof, with the force and trace it asked for', () => {
    expect(check(sign())).toEqual({ force: 'new', trace: true })
    expect(check(sign({}, 'legacy', ''), { force: 'legacy', trace: undefined })).toEqual({
      force: 'legacy',
      trace: false,
    })
    expect(check(sign({}, '', '1'), { force: undefined })).toEqual({
      force: undefined,
      trace: true,
    })
    // A force value other than new or legacy forces nothing.
    expect(check(sign({}, 'sideways', '0'), { force: 'sideways', trace: '0' })).toEqual({
      force: undefined,
      trace: false,
    })
  })

  it('rejects a wrong token', () => {
    expect(check(sign(), { token: 'another-token-of-the-same-length-00' })).toBeUndefined()
    expect(check(signHttp('wrong', NOW, 'GET', request.host, request.target, 'new', '1'))).toBe(
      undefined,
    )
  })

  it('rejects a proof for another method, host or target', () => {
    const auth = sign()
    expect(check(auth, { method: 'POST' })).toBeUndefined()
    expect(check(auth, { host: 'www.example.test' })).toBeUndefined()
    expect(check(auth, { target: '/api/cart?x=2' })).toBeUndefined()
    expect(check(auth, { target: '/api/cart' })).toBeUndefined()
  })

  it('rejects a proof whose force or trace was changed', () => {
    const auth = sign()
    expect(check(auth, { force: 'legacy' })).toBeUndefined()
    expect(check(auth, { trace: undefined })).toBeUndefined()
    expect(check(auth, { force: undefined })).toBeUndefined()
  })

  it('rejects a timestamp more than MAX_SKEW_S away, either way', () => {
    expect(MAX_SKEW_S).toBe(300)
    expect(check(sign({}, 'new', '1', NOW - MAX_SKEW_S))).toEqual({ force: 'new', trace: true })
    expect(check(sign({}, 'new', '1', NOW + MAX_SKEW_S))).toEqual({ force: 'new', trace: true })
    expect(check(sign({}, 'new', '1', NOW - MAX_SKEW_S - 1))).toBeUndefined()
    expect(check(sign({}, 'new', '1', NOW + MAX_SKEW_S + 1))).toBeUndefined()
    // A changed timestamp breaks the MAC.
    const mac = sign().split('.')[1]
    expect(check(`${NOW + 1}.${mac}`)).toBeUndefined()
  })

  it('ignores a request without proof, or with nothing to control', () => {
    expect(check(undefined)).toBeUndefined()
    expect(check(sign(), { force: undefined, trace: undefined })).toBeUndefined()
    for (const bad of [
      '',
      '.',
      'abc',
      `${NOW}`,
      `${NOW}.`,
      `${NOW}.zz`,
      `x.${sign().split('.')[1]}`,
    ])
      expect(check(bad), bad).toBeUndefined()
    expect(check(`${sign()}00`)).toBeUndefined()
  })
})

describe('signDns and dnsControl', () => {
  function query(
    data: Buffer,
    q: { id?: number; name?: string; type?: number; code?: number } = {},
  ): { buf: Buffer; view: QueryView } {
    const buf = buildQuery({
      id: q.id ?? 0xbeef,
      name: q.name ?? 'www.example.test',
      type: q.type ?? 28,
      edns: { options: [{ code: q.code ?? CODE, data }] },
    })
    const view = createQueryView()
    expect(readQuery(buf, buf.length, view)).toBe(Parse.OK)
    return { buf, view }
  }
  const sign = (control: Control, ts = NOW, token = TOKEN) =>
    signDns(token, ts, control, 0xbeef, fqdnWire('www.example.test'), 28)
  const check = (q: { buf: Buffer; view: QueryView }, now = NOW, token = TOKEN) =>
    dnsControl(token, now, CODE, q.buf, q.view)
  const both: Control = { force: 'new', trace: true }

  it('makes 21 octets: flags, timestamp, 16 octets of MAC', () => {
    const data = sign(both)
    expect(data.length).toBe(21)
    expect(data[0]).toBe(1 | 4)
    expect(data.readUInt32BE(1)).toBe(NOW)
    expect(sign({ force: 'legacy', trace: false })[0]).toBe(2)
    expect(sign({ force: undefined, trace: true })[0]).toBe(4)
  })

  it('accepts a correct proof, with the control it asked for', () => {
    expect(check(query(sign(both)))).toEqual(both)
    expect(check(query(sign({ force: 'legacy', trace: false })))).toEqual({
      force: 'legacy',
      trace: false,
    })
    expect(check(query(sign({ force: undefined, trace: true })))).toEqual({
      force: undefined,
      trace: true,
    })
  })

  it('accepts the name in any letter case (resolvers randomise it)', () => {
    expect(check(query(sign(both), { name: 'WwW.ExAmPlE.TeSt' }))).toEqual(both)
  })

  it('rejects a wrong token', () => {
    expect(check(query(sign(both)), NOW, 'another-token')).toBeUndefined()
    expect(check(query(sign(both, NOW, 'another-token')))).toBeUndefined()
  })

  it('rejects a proof for another ID, name or type', () => {
    expect(check(query(sign(both), { id: 0xbeee }))).toBeUndefined()
    expect(check(query(sign(both), { name: 'mail.example.test' }))).toBeUndefined()
    expect(check(query(sign(both), { name: 'www.example.test.evil' }))).toBeUndefined()
    expect(check(query(sign(both), { type: 1 }))).toBeUndefined()
  })

  it('rejects changed flags or a changed timestamp', () => {
    for (const flags of [0, 1, 2, 4, 2 | 4, 0xff]) {
      const data = sign(both)
      data[0] = flags
      expect(check(query(data)), `flags ${flags}`).toBeUndefined()
    }
    const data = sign(both)
    data.writeUInt32BE(NOW + 1, 1)
    expect(check(query(data))).toBeUndefined()
  })

  it('rejects a changed MAC', () => {
    for (let i = 5; i < 21; i++) {
      const data = sign(both)
      data[i] ^= 1
      expect(check(query(data)), `octet ${i}`).toBeUndefined()
    }
  })

  it('rejects a timestamp more than MAX_SKEW_S away, either way', () => {
    expect(check(query(sign(both, NOW - MAX_SKEW_S)))).toEqual(both)
    expect(check(query(sign(both, NOW + MAX_SKEW_S)))).toEqual(both)
    expect(check(query(sign(both, NOW - MAX_SKEW_S - 1)))).toBeUndefined()
    expect(check(query(sign(both, NOW + MAX_SKEW_S + 1)))).toBeUndefined()
  })

  it('ignores another option code, a wrong length, and a query without the option', () => {
    expect(check(query(sign(both), { code: 65431 }))).toBeUndefined()
    expect(check(query(sign(both).subarray(0, 20)))).toBeUndefined()
    expect(check(query(Buffer.concat([sign(both), Buffer.from([0])])))).toBeUndefined()
    const plain = buildQuery({ id: 0xbeef, name: 'www.example.test', type: 28 })
    const view = createQueryView()
    readQuery(plain, plain.length, view)
    expect(dnsControl(TOKEN, NOW, CODE, plain, view)).toBeUndefined()
  })
})

describe('traceText', () => {
  it('reads key=value; pairs', () => {
    expect(traceText('dns:example.test', 1234, 2500, 'new', false, undefined)).toBe(
      'scope=dns:example.test; bucket=1234; percent=25.00; path=new; reason=-',
    )
    expect(traceText('http:x.test/api/', 0, 1, 'legacy', true, undefined)).toBe(
      'scope=http:x.test/api/; bucket=0; percent=0.01; path=legacy (forced); reason=-',
    )
    expect(traceText('dns:*', undefined, 10_000, 'fallback', false, 'qtype-any')).toBe(
      'scope=dns:*; bucket=-; percent=100.00; path=fallback; reason=qtype-any',
    )
  })
})
