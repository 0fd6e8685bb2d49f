// For engine tests: an overload guard that sheds everything while `shedding`
// is set, and counts how often it was asked (a fake of our own guard, never of
// something a user runs).

import type { OverloadSettings } from '../config/config.ts'
import type { Overload } from './overload.ts'

export interface FakeOverload {
  shedding: boolean
  asked: number
  overload: Overload
}

export function fakeOverload(settings: Partial<OverloadSettings>, shedding = true): FakeOverload {
  const all: OverloadSettings = { maxDelay: 20, retryAfter: 1000, dnsUdp: 'drop', ...settings }
  const fake: FakeOverload = {
    shedding,
    asked: 0,
    overload: {
      shed() {
        fake.asked++
        return fake.shedding
      },
      get share() {
        return fake.shedding ? 1 : 0
      },
      settings: all,
      configure() {},
      stop() {},
    },
  }
  return fake
}
