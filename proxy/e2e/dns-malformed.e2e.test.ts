// Malformed queries get what BIND 9 gives them: FORMERR, or nothing at all.
// Each shape is sent to BIND and to the proxy; the outcomes must agree.

import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rcodeName, Type } from '../../dns/constants.ts'
import { buildQuery } from '../../dns/message.ts'
import { exchange } from '../../legacy-adapter/dns-client.ts'
import { type BindServer, startBind } from './support/bind.ts'
import { startTestProxy, type TestProxy } from './support/proxy.ts'

const ZONES = join(dirname(fileURLToPath(import.meta.url)), 'zones')
let bind: BindServer
let proxy: TestProxy

beforeAll(async () => {
  bind = await startBind([{ name: 'e2e.test', file: join(ZONES, 'e2e.test.zone') }], ZONES)
  proxy = await startTestProxy({
    dns: {
      listen: '127.0.0.1:0',
      zones: [{ name: 'e2e.test', file: join(ZONES, 'e2e.test.zone'), percent: 100 }],
      legacy: { servers: [`127.0.0.1:${bind.port}`], timeout: '1s' },
    },
  })
})

afterAll(async () => {
  await proxy?.stop()
  await bind?.stop()
})

/** The reply's rcode name, or 'drop' when none comes within 300 ms. */
async function outcome(target: { host: string; port: number }, packet: Buffer): Promise<string> {
  try {
    const reply = await exchange(target, packet, 'udp', 300)
    return rcodeName(reply[3] & 0xf)
  } catch {
    return 'drop'
  }
}

const valid = buildQuery({ id: 0x1234, name: 'www.e2e.test', type: Type.A, rd: false })
const header = (qd: number, an = 0, ns = 0, ar = 0) =>
  Buffer.from([0x12, 0x34, 0, 0, 0, qd, 0, an, 0, ns, 0, ar])
const tail = Buffer.from([0, 1, 0, 1])

const SHAPES: Record<string, Buffer> = {
  'shorter than a header': valid.subarray(0, 11),
  'header only': valid.subarray(0, 12),
  'question cut in the name': valid.subarray(0, 18),
  'question cut before the class': valid.subarray(0, valid.length - 2),
  'a response (QR set)': Buffer.concat([Buffer.from([0x12, 0x34, 0x80, 0]), valid.subarray(4)]),
  'qdcount 0': header(0),
  'qdcount 2': Buffer.concat([header(2), valid.subarray(12), valid.subarray(12)]),
  'garbage after the question': Buffer.concat([valid, Buffer.from([1, 2, 3])]),
  'compression pointer in the question': Buffer.concat([
    header(1),
    Buffer.from([3, 0x77, 0x77, 0x77, 0xc0, 12]),
    tail,
  ]),
  'pointer forward': Buffer.concat([header(1), Buffer.from([0xc0, 40]), tail]),
  'pointer out of range': Buffer.concat([header(1), Buffer.from([0xff, 0xff]), tail]),
  'label over 63': Buffer.concat([
    header(1),
    Buffer.from([64]),
    Buffer.alloc(64, 0x61),
    Buffer.from([0]),
    tail,
  ]),
  'extended label type 0x40': Buffer.concat([header(1), Buffer.from([0x41, 0x61, 0]), tail]),
  'name over 255 octets': Buffer.concat([
    header(1),
    ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([60]), Buffer.alloc(60, 0x61)])),
    Buffer.from([0]),
    tail,
  ]),
  'additional record cut short': Buffer.concat([
    header(1, 0, 0, 1),
    valid.subarray(12),
    Buffer.from([0, 0, 41]),
  ]),
  'two OPT records': Buffer.concat([
    header(1, 0, 0, 2),
    valid.subarray(12),
    ...[0, 1].map(() => Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0])),
  ]),
  'compression loop in an additional name': Buffer.concat([
    header(1, 0, 0, 1),
    valid.subarray(12),
    Buffer.from([0xc0, valid.length, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]),
  ]),
}

describe('malformed queries', () => {
  for (const [shape, packet] of Object.entries(SHAPES)) {
    it(`${shape}: the proxy does what BIND does`, async () => {
      const [fromBind, fromProxy] = await Promise.all([
        outcome(bind, packet),
        outcome({ host: '127.0.0.1', port: proxy.dnsPort }, packet),
      ])
      expect(fromProxy).toBe(fromBind)
    })
  }

  it('keeps answering valid queries afterwards', async () => {
    expect(await outcome({ host: '127.0.0.1', port: proxy.dnsPort }, valid)).toBe('NOERROR')
  })
})
