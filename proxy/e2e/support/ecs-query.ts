// A DNS query as a resolver serving many clients sends it: with an EDNS Client
// Subnet option naming the client's network, here 10.x.y.0/24 for client `n`.

import { Type } from '../../../dns/constants.ts'
import { buildQuery } from '../../../dns/message.ts'

export function queryFrom(n: number, name = 'www.e2e.test'): Buffer {
  const ecs = Buffer.from([0, 1, 24, 0, 10, (n >> 8) & 0xff, n & 0xff])
  return buildQuery({
    name,
    type: Type.A,
    edns: { udpSize: 1232, options: [{ code: 8, data: ecs }] },
  })
}
