import { describe, expect, it } from 'vitest'
import { Flag, Rcode, Type } from '../../dns/constants.ts'
import { buildQuery } from '../../dns/message.ts'
import { parseCidr } from '../../modules/access/cidr.ts'
import { type RateLimitSettings, ResponseRateLimiter, writeSlip } from './response-rate-limit.ts'

const settings = (more: Partial<RateLimitSettings> = {}): RateLimitSettings => ({
  responsesPerSecond: 5,
  window: 15,
  slip: 2,
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 56,
  exempt: [],
  maxAccounts: 1000,
  ...more,
})

/** A response header with `rcode`, AA and `answers`. */
function response(rcode: number, answers: number, aa = true): Buffer {
  const r = Buffer.alloc(12)
  r.writeUInt16BE(Flag.QR | (aa ? Flag.AA : 0) | rcode, 2)
  r.writeUInt16BE(answers, 6)
  return r
}

const www = buildQuery({ name: 'www.example.test', type: Type.A })
const answer = response(Rcode.NOERROR, 1)

/** The actions for `n` responses at `now` seconds. */
const run = (
  rrl: ResponseRateLimiter,
  n: number,
  now: number,
  client = '192.0.2.1',
  query = www,
  res = answer,
) => Array.from({ length: n }, () => rrl.check(client, 'dns:example.test', query, res, now))

describe('ResponseRateLimiter', () => {
  it('sends the rate, then slips every second response over it and drops the rest', () => {
    const rrl = new ResponseRateLimiter(settings())
    expect(run(rrl, 9, 100)).toEqual([
      'send',
      'send',
      'send',
      'send',
      'send',
      'drop',
      'slip',
      'drop',
      'slip',
    ])
  })

  it('earns the rate back each second, after the debt the window remembers', () => {
    const rrl = new ResponseRateLimiter(settings({ window: 1, slip: 0 }))
    run(rrl, 100, 100)
    // The debt is at most one second's worth: one second pays it back, the next earns anew.
    expect(run(rrl, 1, 101)).toEqual(['drop'])
    expect(run(rrl, 5, 103)).toEqual(['send', 'send', 'send', 'send', 'send'])
  })

  it('counts a client network as one: /24 for IPv4, /56 for IPv6', () => {
    const rrl = new ResponseRateLimiter(settings({ slip: 0 }))
    run(rrl, 5, 100, '192.0.2.1')
    expect(run(rrl, 1, 100, '192.0.2.200')).toEqual(['drop'])
    expect(run(rrl, 1, 100, '192.0.3.1')).toEqual(['send'])
    run(rrl, 5, 100, '2001:db8:0:1::1')
    expect(run(rrl, 1, 100, '2001:db8:0:ff::9')).toEqual(['drop'])
    expect(run(rrl, 1, 100, '2001:db8:0:100::1')).toEqual(['send'])
  })

  it('keeps names and types apart, but counts every NXDOMAIN of a zone as one', () => {
    const rrl = new ResponseRateLimiter(settings({ slip: 0 }))
    run(rrl, 5, 100)
    expect(
      run(rrl, 1, 100, '192.0.2.1', buildQuery({ name: 'WWW.example.test', type: Type.A })),
    ).toEqual(['drop'])
    expect(
      run(rrl, 1, 100, '192.0.2.1', buildQuery({ name: 'www.example.test', type: Type.AAAA })),
    ).toEqual(['send'])
    const nx = response(Rcode.NXDOMAIN, 0)
    for (let i = 0; i < 5; i++)
      run(rrl, 1, 100, '192.0.2.1', buildQuery({ name: `r${i}.example.test`, type: Type.A }), nx)
    expect(
      run(rrl, 1, 100, '192.0.2.1', buildQuery({ name: 'other.example.test', type: Type.A }), nx),
    ).toEqual(['drop'])
  })

  it('never limits an exempt network, and forgets the least recently used account past maxAccounts', () => {
    const exempt = new ResponseRateLimiter(settings({ exempt: [parseCidr('192.0.2.0/24')!] }))
    expect(run(exempt, 20, 100).every((a) => a === 'send')).toBe(true)
    const small = new ResponseRateLimiter(settings({ maxAccounts: 1000, slip: 0 }))
    run(small, 5, 100, '10.0.0.1')
    for (let i = 0; i < 1000; i++) run(small, 1, 100, `10.${(i >> 8) + 1}.${i & 255}.1`)
    // Its account was the oldest and went: it starts afresh.
    expect(run(small, 1, 100, '10.0.0.1')).toEqual(['send'])
  })
})

describe('writeSlip', () => {
  it('is the question alone with TC set', () => {
    const out = Buffer.alloc(512)
    const length = writeSlip(www, out)
    expect(length).toBe(www.length)
    expect(out.readUInt16BE(2) & Flag.TC).toBe(Flag.TC)
    expect(out.readUInt16BE(2) & Flag.QR).toBe(Flag.QR)
    expect([
      out.readUInt16BE(4),
      out.readUInt16BE(6),
      out.readUInt16BE(8),
      out.readUInt16BE(10),
    ]).toEqual([1, 0, 0, 0])
    expect(out.subarray(12, length)).toEqual(www.subarray(12))
  })
})
