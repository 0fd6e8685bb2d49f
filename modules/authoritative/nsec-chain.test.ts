import { describe, expect, it } from 'vitest'
import { labelName, nameToWire } from '../../dns/name.ts'
import { compareNames, covering, type NsecChain } from './nsec-chain.ts'
import type { RRset } from './zone.ts'

// RFC 4034 section 6.1's example, in canonical order.
const CANONICAL = [
  'example.',
  'a.example.',
  'yljkjljk.a.example.',
  'Z.a.example.',
  'zABC.a.EXAMPLE.',
  'z.example.',
  '\\001.z.example.',
  '*.z.example.',
  '\\200.z.example.',
]

const wire = (text: string) => nameToWire(text)
const compare = (a: string, b: string) =>
  compareNames(wire(a), labelName(wire(a)), wire(b), labelName(wire(b)))

function chainOf(names: readonly string[]): NsecChain {
  const proofs = names.map((n) => ({ owner: wire(n), rrset: {} as RRset }))
  return { proofs, names: proofs.map((p) => labelName(p.owner)) }
}

describe('canonical name order (RFC 4034 section 6.1)', () => {
  it('sorts the RFC example as the RFC does, letter case aside', () => {
    const shuffled = [...CANONICAL].reverse()
    expect(shuffled.sort(compare)).toEqual(CANONICAL)
    expect(compare('Z.a.example.', 'z.A.EXAMPLE.')).toBe(0)
  })

  it('finds the NSEC that covers a name the zone lacks, or the one at a name it holds', () => {
    const chain = chainOf(CANONICAL)
    const cover = (name: string) => {
      const w = wire(name)
      return covering(chain, w, labelName(w)).owner
    }
    expect(cover('b.example.')).toEqual(wire('zABC.a.EXAMPLE.'))
    expect(cover('aa.example.')).toEqual(wire('zABC.a.EXAMPLE.'))
    expect(cover('0.a.example.')).toEqual(wire('a.example.'))
    expect(cover('+.z.example.')).toEqual(wire('*.z.example.'))
    expect(cover('x.\\200.z.example.')).toEqual(wire('\\200.z.example.'))
    expect(cover('zz.example.')).toEqual(wire('\\200.z.example.'))
    expect(cover('A.EXAMPLE.')).toEqual(wire('a.example.'))
  })
})
