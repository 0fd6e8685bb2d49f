// Header rewriting for an upgrade's 101: the upstream's hop-by-hop fields go,
// and this hop sets Connection: upgrade and the Upgrade switched to again.

import { expect, it } from 'vitest'
import { forwardUpgradeHeaders } from './http-headers.ts'

it('keeps end-to-end fields, drops the named hop-by-hop ones, and sets Connection and Upgrade for this hop', () => {
  expect(
    forwardUpgradeHeaders([
      'Upgrade',
      'websocket',
      'Connection',
      'Upgrade, X-Hop',
      'X-Hop',
      'secret',
      'Sec-WebSocket-Accept',
      's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      'Via',
      '1.1 origin',
    ]),
  ).toEqual([
    'Sec-WebSocket-Accept',
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    'via',
    '1.1 origin, 1.1 cutover',
    'connection',
    'upgrade',
    'upgrade',
    'websocket',
  ])
})

it('sets no Upgrade when the upstream named none', () => {
  expect(forwardUpgradeHeaders(['Connection', 'upgrade'])).toEqual([
    'via',
    '1.1 cutover',
    'connection',
    'upgrade',
  ])
})
