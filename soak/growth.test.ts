import { describe, expect, it } from 'vitest'
import { growth, type Sample, slope } from './growth.ts'

const run = (rss: number[], fds: number[]): Sample[] =>
  rss.map((rssMiB, i) => ({ atS: i * 10, rssMiB, fds: fds[i] }))

const failures = (samples: Sample[]) => {
  const out: string[] = []
  growth(samples, (what) => out.push(what))
  return out
}

describe('growth', () => {
  it('passes a warm run whose memory swings with garbage collection and restarts', () => {
    expect(failures(run([420, 520, 650, 500, 640, 455], [230, 311, 305, 303, 299, 308]))).toEqual(
      [],
    )
  })

  it('fails when the floor that memory comes back to rises by more than a quarter', () => {
    expect(failures(run([420, 500, 510, 520, 700, 720], [300, 300, 300, 300, 300, 300]))).toEqual([
      'resident memory grew from 510.0 to 700.0 MiB',
    ])
  })

  it('fails when descriptors keep opening', () => {
    expect(failures(run([400, 400, 400, 400, 400, 400], [200, 300, 310, 320, 340, 350]))).toEqual([
      'open descriptors grew from 320 to 340',
    ])
  })

  it('passes descriptors that dip for a moment after a reload and come back', () => {
    expect(failures(run([466, 475, 487, 492, 494, 523], [310, 310, 310, 210, 274, 295]))).toEqual(
      [],
    )
  })
})

describe('slope', () => {
  it('is the least-squares slope, 0 for fewer than two points', () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBe(2)
    expect(slope([[0, 1]])).toBe(0)
  })
})
