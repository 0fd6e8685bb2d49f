import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type Destination, LineBatch } from './line-batch.ts'

/** Records what the batch hands over; a stand-in for sonic-boom in a test of our own batching. */
function recorder(): { writes: string[]; destination: Destination } {
  const writes: string[] = []
  const destination = { write: (s: string) => writes.push(s) } as unknown as Destination
  return { writes, destination }
}

describe('LineBatch', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('hands the lines of a few milliseconds over in one write, in order', () => {
    const { writes, destination } = recorder()
    const batch = new LineBatch(destination)
    batch.write('a\n')
    batch.write('b\n')
    expect(writes).toEqual([])
    vi.advanceTimersByTime(20)
    expect(writes).toEqual(['a\nb\n'])
    batch.write('c\n')
    vi.advanceTimersByTime(20)
    expect(writes).toEqual(['a\nb\n', 'c\n'])
  })

  it('writes at once when 64 KiB are waiting', () => {
    const { writes, destination } = recorder()
    const batch = new LineBatch(destination)
    const line = `${'x'.repeat(1023)}\n`
    for (let i = 0; i < 64; i++) batch.write(line)
    expect(writes).toHaveLength(1)
    expect(writes[0]).toHaveLength(64 * 1024)
  })

  it('flush() writes what waits and nothing when nothing does', () => {
    const { writes, destination } = recorder()
    const batch = new LineBatch(destination)
    batch.flush()
    batch.write('a\n')
    batch.flush()
    vi.advanceTimersByTime(20)
    expect(writes).toEqual(['a\n'])
  })
})
