// Progress on a fake stream with a fake clock: a bar redrawn in place on a TTY,
// plain lines every tenth or every few seconds elsewhere.

import { describe, expect, it } from 'vitest'
import { createProgress, type Progress } from './progress.ts'
import type { Outcome } from './report-model.ts'

function fake(isTTY: boolean, columns?: number) {
  const writes: string[] = []
  let t = 1_000_000
  return {
    writes,
    stream: { isTTY, columns, write: (s: string) => writes.push(s) },
    clock: { now: () => t, advance: (ms: number) => (t += ms) },
  }
}

/** What a redraw shows: the line without the carriage return and erase-line code. */
function shown(write: string): string {
  expect(write.startsWith('\r')).toBe(true)
  expect(write.endsWith('\x1b[K')).toBe(true)
  return write.slice(1, -3)
}

describe('createProgress on a TTY', () => {
  it('draws at once, then at most every 100 ms, each time over the same line', () => {
    const f = fake(true, 120)
    const p = createProgress(10, f.stream, { now: f.clock.now })
    p.tick('match')
    expect(f.writes).toHaveLength(1)
    expect(shown(f.writes[0])).toContain(' 1/10 10% ')
    f.clock.advance(50)
    p.tick('match')
    expect(f.writes).toHaveLength(1)
    f.clock.advance(50)
    p.tick('match')
    expect(f.writes).toHaveLength(2)
    expect(shown(f.writes[1])).toContain(' 3/10 30% ')
    expect(f.writes.join('')).not.toContain('\n')
  })

  it('shows a bar, done of total, the rate, mismatches and errors so far, and an eta', () => {
    const f = fake(true, 120)
    const p = createProgress(10, f.stream, { now: f.clock.now })
    const outcomes: Outcome[] = ['match', 'mismatch', 'match', 'error', 'mismatch']
    for (const o of outcomes) {
      f.clock.advance(200)
      p.tick(o)
    }
    expect(shown(f.writes.at(-1)!)).toBe(
      `[${'█'.repeat(12)}${'░'.repeat(12)}] 5/10 50% · 5.00 cases/s · 2 mismatching, 1 error · eta 1.00 s`,
    )
  })

  it('draws the last case at once, and done() leaves the cursor on a new line', () => {
    const f = fake(true)
    const p = createProgress(2, f.stream, { now: f.clock.now })
    p.tick('match')
    p.tick('mismatch')
    expect(f.writes).toHaveLength(2)
    expect(shown(f.writes[1])).toContain(' 2/2 100% ')
    expect(shown(f.writes[1])).not.toContain('eta')
    p.done()
    expect(f.writes.slice(2)).toEqual([f.writes[1], '\n'])
  })

  it('never writes past the terminal width, dropping the bar when it is narrow', () => {
    for (const columns of [30, 50, 100]) {
      const f = fake(true, columns)
      const p = createProgress(1000, f.stream, { now: f.clock.now })
      for (let i = 0; i < 50; i++) {
        f.clock.advance(150)
        p.tick(i % 3 === 0 ? 'mismatch' : 'match')
      }
      for (const w of f.writes) expect(shown(w).length).toBeLessThan(columns)
      const last = shown(f.writes.at(-1)!)
      if (columns === 100) expect(last.startsWith('[')).toBe(true)
      else expect(last.startsWith('50/1000 5%')).toBe(true)
    }
  })
})

describe('createProgress elsewhere (CI)', () => {
  it('writes a plain line at every tenth of the run and a last one at done()', () => {
    const f = fake(false)
    const p = createProgress(100, f.stream, { now: f.clock.now })
    for (let i = 0; i < 100; i++) {
      f.clock.advance(10)
      p.tick(i < 3 ? 'mismatch' : 'match')
    }
    p.done()
    expect(f.writes).toHaveLength(10)
    expect(f.writes[0]).toBe(
      'diff: 10/100 cases (10%) in 100 ms, 100 cases/s, 3 mismatching, 0 errors\n',
    )
    expect(f.writes[8]).toContain('diff: 90/100 cases (90%)')
    expect(f.writes[9]).toBe(
      'diff: 100/100 cases (100%) in 1.00 s, 100 cases/s, 3 mismatching, 0 errors, done\n',
    )
    expect(f.writes.join('')).not.toContain('\r')
    expect(f.writes.join('')).not.toContain('\x1b')
  })

  it('writes a line every 10 seconds when tenths are slow to come', () => {
    const f = fake(false)
    const p = createProgress(1000, f.stream, { now: f.clock.now })
    for (let i = 0; i < 12; i++) {
      f.clock.advance(4000)
      p.tick('match')
    }
    expect(f.writes.map((w) => w.slice(0, w.indexOf(' cases')))).toEqual([
      'diff: 3/1000',
      'diff: 6/1000',
      'diff: 9/1000',
      'diff: 12/1000',
    ])
    expect(f.writes[0]).toContain('in 12.0 s, 0.25 cases/s')
  })

  it('takes its interval from everyMs', () => {
    const f = fake(false)
    const p = createProgress(1000, f.stream, { now: f.clock.now, everyMs: 1000 })
    for (let i = 0; i < 5; i++) {
      f.clock.advance(1000)
      p.tick('error')
    }
    expect(f.writes).toHaveLength(5)
    expect(f.writes[4]).toContain('0 mismatching, 5 errors')
  })

  it('reports a run of no cases as complete', () => {
    const f = fake(false)
    createProgress(0, f.stream, { now: f.clock.now }).done()
    expect(f.writes).toEqual([
      'diff: 0/0 cases (100%) in 0 ms, - cases/s, 0 mismatching, 0 errors, done\n',
    ])
  })
})

describe('createProgress after done()', () => {
  it('ignores more ticks and more done() calls', () => {
    for (const tty of [true, false]) {
      const f = fake(tty)
      const p = createProgress(3, f.stream, { now: f.clock.now })
      p.tick('match')
      p.done()
      const before = [...f.writes]
      p.tick('mismatch')
      p.done()
      expect(f.writes).toEqual(before)
    }
  })

  it('accepts process.stderr as its stream', () => {
    // A type-level check: a Node WriteStream is a ProgressStream.
    const make = (s: NodeJS.WriteStream): Progress => createProgress(0, s)
    expect(typeof make).toBe('function')
  })
})
